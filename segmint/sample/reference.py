"""Reference data of the sample shop: categories, brands, products' words, countries, cities,
names and channels."""

from __future__ import annotations

import numpy as np

CATEGORIES = (
    "electronics",
    "fashion",
    "home",
    "garden",
    "beauty",
    "sports",
    "toys",
    "books",
    "grocery",
    "jewelry",
)
# median list price (EUR/GBP) and log-sd per category
CAT_PRICE = np.array([140.0, 45.0, 38.0, 32.0, 19.0, 42.0, 26.0, 14.0, 7.5, 85.0])
CAT_PRICE_SD = np.array([0.7, 0.5, 0.6, 0.5, 0.45, 0.55, 0.5, 0.35, 0.5, 0.7])
# seasonal peaks per category: (day of year, width in days, amplitude)
CAT_PEAKS: tuple[tuple[tuple[int, float, float], ...], ...] = (
    ((340, 25, 0.9), (328, 6, 0.8)),  # electronics: Black Friday, Christmas
    ((90, 30, 0.25), (270, 30, 0.3)),  # fashion: spring and autumn collections
    ((15, 20, 0.35), (300, 40, 0.15)),  # home: January sales, autumn nesting
    ((130, 40, 1.2),),  # garden: spring and early summer
    ((350, 20, 0.5), (42, 8, 0.4)),  # beauty: Christmas, Valentine's
    ((8, 15, 0.6), (180, 45, 0.25)),  # sports: new-year resolutions, summer
    ((345, 22, 1.6),),  # toys: Christmas
    ((350, 18, 0.5), (200, 35, 0.25)),  # books: Christmas, summer holidays
    (),  # grocery: flat
    ((350, 15, 1.0), (43, 6, 1.2)),  # jewelry: Christmas, Valentine's
)
BRANDS = (
    ("Voltra", "Nordwave", "Pixelon", "Kestrel Audio", "Lumetric"),
    ("Maison Ardent", "Urban Thread", "Fjordline", "Casa Verde", "Velvet & Oak"),
    ("Hearthly", "Nook & Co", "Tidy Haus", "Lindenhome", "Copperfield"),
    ("Greenhand", "Rootwell", "Bloomkit", "Terra Patch"),
    ("Lumen Skin", "Petal Lab", "Aura Botanica", "Softdew"),
    ("Stridex Sport", "Peakform", "Aquaglide", "Trailmark"),
    ("Brickwise", "Tiny Tinker", "Puzzlefox", "Moonbeam Toys"),
    ("Inkwell Press", "Paperlantern", "Northstar Books"),
    ("Harvest Lane", "Daily Crumb", "Bean & Leaf", "Olive Grove"),
    ("Aurelle", "Silverfern", "Gemmaker", "Oro Fino"),
)
NOUNS = (
    ("Headphones", "Speaker", "Smartwatch", "Tablet", "Camera", "Charger", "Keyboard"),
    ("Jacket", "Sneakers", "Jeans", "Dress", "Scarf", "Shirt", "Boots"),
    ("Lamp", "Cushion", "Throw", "Vase", "Pan Set", "Towel Set", "Mirror"),
    ("Planter", "Hose", "Seed Kit", "Pruner", "Bird Feeder", "Lantern"),
    ("Serum", "Face Cream", "Lip Balm", "Perfume", "Shampoo", "Body Lotion"),
    ("Yoga Mat", "Running Shoes", "Water Bottle", "Dumbbells", "Backpack"),
    ("Building Set", "Puzzle", "Plush Bear", "Board Game", "Race Car"),
    ("Novel", "Cookbook", "Travel Guide", "Notebook", "Comic"),
    ("Coffee Beans", "Olive Oil", "Tea Tin", "Chocolate", "Pasta"),
    ("Necklace", "Ring", "Bracelet", "Earrings", "Watch"),
)
ADJECTIVES = ("Classic", "Pro", "Eco", "Mini", "Premium", "Essential", "Deluxe", "Urban")
QUERIES = (
    ("wireless headphones", "4k tv", "phone charger"),
    ("winter jacket", "white sneakers", "linen dress"),
    ("bedside lamp", "cushion covers", "frying pan"),
    ("raised bed", "garden hose", "solar lights"),
    ("vitamin c serum", "perfume gift", "hand cream"),
    ("yoga mat", "running shoes", "kettlebell"),
    ("lego", "jigsaw puzzle", "board games"),
    ("bestsellers", "cookbook", "crime novel"),
    ("coffee beans", "olive oil", "dark chocolate"),
    ("gold necklace", "silver ring", "engagement ring"),
)

# country: (weight, region index, currency, phone country code, cities)
COUNTRIES = ("GB", "DE", "FR", "NL", "ES", "IT", "BE", "IE", "AT", "PT")
COUNTRY_WEIGHT = np.array([0.30, 0.20, 0.13, 0.08, 0.08, 0.07, 0.04, 0.04, 0.03, 0.03])
REGIONS = ("uk_ireland", "dach", "france", "benelux", "iberia", "italy")
COUNTRY_REGION = np.array([0, 1, 2, 3, 4, 5, 3, 0, 1, 4])
# Currencies a customer may pay in; the shop's books (and the catalogue's prices) are in EUR.
# A currency's price list is the EUR list converted once at its reference rate (units of EUR
# per unit, about the 2024 average); its daily rate then drifts around it.
BASE_CURRENCY = "EUR"
CURRENCIES = ("GBP", "EUR", "USD", "CHF", "SEK", "DKK", "PLN", "NOK", "CZK")
REFERENCE_RATE = np.array([1.18, 1.0, 0.924, 1.05, 0.0874, 0.134, 0.232, 0.0857, 0.0399])
DAILY_RATE_VOL = np.array([0.0035, 0.0, 0.0045, 0.0035, 0.0045, 0.0003, 0.004, 0.005, 0.003])
COUNTRY_CURRENCY = np.array([0, 1, 1, 1, 1, 1, 1, 1, 1, 1])
COUNTRY_CC = ("44", "49", "33", "31", "34", "39", "32", "353", "43", "351")
CITIES = (
    ("London", "Manchester", "Birmingham", "Leeds", "Glasgow", "Bristol", "Liverpool"),
    ("Berlin", "Hamburg", "München", "Köln", "Frankfurt am Main", "Stuttgart", "Leipzig"),
    ("Paris", "Lyon", "Marseille", "Toulouse", "Nantes", "Bordeaux", "Lille"),
    ("Amsterdam", "Rotterdam", "Den Haag", "Utrecht", "Eindhoven", "Groningen"),
    ("Madrid", "Barcelona", "Valencia", "Sevilla", "Bilbao", "Málaga"),
    ("Roma", "Milano", "Napoli", "Torino", "Bologna", "Firenze"),
    ("Brussel", "Antwerpen", "Gent", "Liège", "Brugge"),
    ("Dublin", "Cork", "Galway", "Limerick"),
    ("Wien", "Graz", "Linz", "Salzburg"),
    ("Lisboa", "Porto", "Braga", "Coimbra"),
)
FEMALE_NAMES = (
    "Emma", "Olivia", "Sophie", "Mia", "Lena", "Chloe", "Julia", "Laura", "Sara", "Anna",
    "Lucia", "Giulia", "Ines", "Marie", "Hannah", "Nora", "Isla", "Freya", "Clara", "Elena",
)  # fmt: skip
MALE_NAMES = (
    "Liam", "Noah", "Lucas", "Jonas", "Leon", "Hugo", "Mateo", "Luca", "Finn", "Oliver",
    "Jack", "Paul", "Daniel", "Tom", "Marco", "Pablo", "Sean", "Felix", "Ruben", "David",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "Jones", "Taylor", "Brown", "Murphy", "Kelly", "Muller", "Schmidt", "Weber",
    "Martin", "Bernard", "Dubois", "Jansen", "de Vries", "Garcia", "Lopez", "Rossi", "Russo",
    "Peeters", "Silva", "Santos", "Novak", "Walsh", "Evans", "Fischer", "Moreau", "Bakker",
    "Romano", "Costa", "Wright",
)  # fmt: skip
GENDERS = ("female", "male", "other", "unknown")
ACQ_CHANNELS = (
    "organic_search",
    "paid_search",
    "social",
    "referral",
    "email",
    "affiliate",
    "direct",
    "store",
)
ORDER_CHANNELS = ("web", "app", "store", "phone")
EVENT_CHANNELS = ("web", "app", "store", "phone", "email")
DEVICES = ("desktop", "mobile", "tablet", "ios", "android", "pos", "call_center")
EMAIL_DOMAINS = ("example.com", "example.net", "example.org")
