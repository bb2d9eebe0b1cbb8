"""Model plots: each run writes its own folder, `latest` follows the newest, nothing is lost."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
from matplotlib.figure import Figure

from orchestration.lib.io import figures_metadata

PNG = b"\x89PNG\r\n\x1a\n"


def tiny(title: str) -> Figure:
    fig = Figure(figsize=(1.5, 1))
    fig.subplots().set_title(title)
    return fig


def test_a_second_run_keeps_the_first_runs_plots_and_moves_latest(tmp_path: Path) -> None:
    folder = tmp_path / "churn"
    first = figures_metadata({"churn_lift": tiny("first")}, folder, run_id="aaaa1111-run")
    first_png = Path(first["plot_churn_lift_path"].value)
    first_bytes = first_png.read_bytes()
    assert first_png.parent.parent == folder / "runs"
    assert first_png.parent.name.endswith("-aaaa1111") and first_bytes.startswith(PNG)
    assert (folder / "latest").resolve() == first_png.parent.resolve()

    second = figures_metadata({"churn_lift": tiny("second")}, folder, run_id="bbbb2222-run")
    second_png = Path(second["plot_churn_lift_path"].value)
    assert second_png.parent != first_png.parent
    assert first_png.read_bytes() == first_bytes  # not overwritten
    assert second_png.read_bytes() != first_bytes
    latest = folder / "latest"
    assert latest.is_symlink() and not Path(os.readlink(latest)).is_absolute()
    assert (latest / "churn_lift.png").read_bytes() == second_png.read_bytes()
    assert sorted(p.name for p in (folder / "runs").iterdir()) == sorted(
        [first_png.parent.name, second_png.parent.name]
    )
    # No temp file or link is left behind, and no plot sits outside runs/.
    assert sorted(p.name for p in folder.iterdir()) == ["latest", "runs"]
    assert [p.name for p in second_png.parent.iterdir()] == ["churn_lift.png"]


def test_the_same_run_id_twice_gets_two_folders(tmp_path: Path) -> None:
    a = figures_metadata({"x": tiny("a")}, tmp_path, run_id="same")
    b = figures_metadata({"x": tiny("b")}, tmp_path, run_id="same")
    pa, pb = Path(a["plot_x_path"].value), Path(b["plot_x_path"].value)
    assert pa.parent != pb.parent and pa.exists() and pb.exists()
    assert (tmp_path / "latest").resolve() == pb.parent.resolve()


def test_without_symlinks_latest_txt_names_the_newest_run(tmp_path, monkeypatch) -> None:
    def no_symlinks(*_args, **_kwargs):
        raise PermissionError("symlinks not permitted on this file system")

    monkeypatch.setattr(os, "symlink", no_symlinks)
    figures_metadata({"x": tiny("a")}, tmp_path, run_id="first")
    meta = figures_metadata({"x": tiny("b")}, tmp_path, run_id="second")
    newest = Path(meta["plot_x_path"].value).parent
    assert not (tmp_path / "latest").exists()
    assert (tmp_path / "latest.txt").read_text() == f"runs/{newest.name}\n"
    assert len(list((tmp_path / "runs").iterdir())) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latest.txt", "runs"]


def test_no_figures_write_no_run(tmp_path: Path) -> None:
    assert figures_metadata({}, tmp_path / "churn") == {}
    assert not (tmp_path / "churn").exists()


def test_inside_an_asset_the_run_folder_carries_the_dagster_run_id(tmp_path: Path) -> None:
    @dg.asset
    def plotted():  # a generator, as the model assets are (ml assets' _write_back)
        yield dg.MaterializeResult(metadata=figures_metadata({"x": tiny("a")}, tmp_path))

    result = dg.materialize([plotted], instance=dg.DagsterInstance.ephemeral())
    meta = result.asset_materializations_for_node("plotted")[0].metadata
    run_folder = Path(meta["plot_x_path"].value).parent
    assert run_folder.name.endswith("-" + result.run_id[:8])
    assert "plot_x" in meta


def test_a_link_replaces_the_latest_txt_of_a_symlink_less_run(tmp_path: Path) -> None:
    (tmp_path / "latest.txt").write_text("runs/old\n")
    figures_metadata({"x": tiny("a")}, tmp_path, run_id="new")
    assert (tmp_path / "latest").is_symlink() and not (tmp_path / "latest.txt").exists()
