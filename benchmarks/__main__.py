"""`python -m benchmarks` (`make bench`): the pipeline benchmark at S0 and S1."""

from benchmarks.pipeline import main

if __name__ == "__main__":
    main()
