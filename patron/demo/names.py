"""Word lists of the demo shop: categories and products, people's names, locales."""

from __future__ import annotations

# Category -> (popularity weight, (low, high) price in cents, product nouns).
CATEGORIES: dict[str, tuple[float, tuple[int, int], tuple[str, ...]]] = {
    "Coffee & Tea": (1.6, (900, 4500), (
        "Espresso Beans", "Filter Roast", "Green Tea", "Chai Blend", "Earl Grey",
        "Decaf Roast", "Cold Brew Pack", "Matcha", "Rooibos", "Oolong")),
    "Kitchen": (1.2, (1500, 12000), (
        "Pour-Over Kettle", "Chef's Knife", "Cutting Board", "Cast Iron Pan", "Mixing Bowls",
        "Coffee Grinder", "French Press", "Salad Spinner", "Spice Rack", "Tea Infuser")),
    "Home": (1.0, (1200, 9000), (
        "Throw Blanket", "Scented Candle", "Linen Cushion", "Ceramic Vase", "Wall Clock",
        "Table Lamp", "Picture Frame", "Doormat", "Plant Pot", "Storage Basket")),
    "Outdoor": (0.8, (2000, 18000), (
        "Daypack", "Water Bottle", "Camping Mug", "Headlamp", "Picnic Blanket",
        "Trail Socks", "Rain Jacket", "Folding Chair", "Insulated Flask", "Hammock")),
    "Books": (0.9, (900, 3500), (
        "Cookbook", "Travel Guide", "Novel", "Sketchbook", "Field Guide",
        "Poetry Collection", "Photo Book", "Garden Almanac", "Coffee Atlas", "Puzzle Book")),
    "Apparel": (1.1, (1800, 11000), (
        "T-Shirt", "Hoodie", "Beanie", "Apron", "Tote Bag",
        "Scarf", "Sweater", "Cap", "Socks", "Overshirt")),
    "Beauty": (0.9, (700, 5500), (
        "Hand Cream", "Lip Balm", "Face Oil", "Bar Soap", "Shampoo Bar",
        "Body Lotion", "Bath Salts", "Face Mask", "Beard Oil", "Sunscreen")),
    "Stationery": (0.7, (400, 3500), (
        "Notebook", "Fountain Pen", "Planner", "Greeting Cards", "Pencil Set",
        "Washi Tape", "Desk Pad", "Sticky Notes", "Envelope Set", "Bookmark")),
}

ADJECTIVES = ("Classic", "Organic", "Everyday", "Premium", "Nordic", "Rustic", "Compact",
              "Artisan", "Urban", "Heritage", "Coastal", "Studio")

# Locale -> (share of customers, time zones, first names, last names).
LOCALES: dict[str, tuple[float, tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "en-US": (0.46, ("America/New_York", "America/Chicago", "America/Denver",
                     "America/Los_Angeles"),
              ("James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda",
               "David", "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph",
               "Jessica", "Thomas", "Sarah", "Daniel", "Karen", "Emily", "Olivia", "Noah",
               "Liam", "Ava", "Mia", "Ethan", "Sofia", "Lucas", "Chloe"),
              ("Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
               "Rodriguez", "Martinez", "Hernandez", "Lopez", "Wilson", "Anderson", "Thomas",
               "Taylor", "Moore", "Jackson", "Martin", "Lee", "Thompson", "White", "Harris",
               "Clark", "Lewis", "Walker", "Young", "Allen", "King", "Wright")),
    "en-GB": (0.16, ("Europe/London",),
              ("Oliver", "Amelia", "George", "Isla", "Harry", "Ava", "Jack", "Grace",
               "Charlie", "Freya", "Alfie", "Poppy", "Oscar", "Lily", "Arthur", "Evie"),
              ("Evans", "Roberts", "Hughes", "Wood", "Hall", "Green", "Edwards", "Turner",
               "Cooper", "Baker", "Ward", "Morgan", "Bennett", "Price", "Knight", "Fletcher")),
    "de-DE": (0.12, ("Europe/Berlin",),
              ("Lukas", "Anna", "Felix", "Lena", "Jonas", "Marie", "Paul", "Hannah", "Leon",
               "Sophie", "Jan", "Laura"),
              ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner",
               "Becker", "Hoffmann", "Schulz", "Koch", "Richter")),
    "fr-FR": (0.10, ("Europe/Paris",),
              ("Gabriel", "Léa", "Louis", "Chloé", "Raphaël", "Manon", "Jules", "Camille",
               "Hugo", "Inès", "Arthur", "Zoé"),
              ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit",
               "Durand", "Leroy", "Moreau", "Simon", "Laurent")),
    "es-ES": (0.08, ("Europe/Madrid",),
              ("Hugo", "Lucía", "Martín", "Sofía", "Pablo", "Martina", "Daniel", "María",
               "Alejandro", "Paula", "Álvaro", "Carmen"),
              ("García", "Fernández", "González", "Rodríguez", "López", "Martínez",
               "Sánchez", "Pérez", "Gómez", "Martín", "Jiménez", "Ruiz")),
    "nl-NL": (0.08, ("Europe/Amsterdam",),
              ("Daan", "Emma", "Sem", "Julia", "Lucas", "Tess", "Milan", "Sara", "Finn",
               "Anna", "Levi", "Fleur"),
              ("de Jong", "Jansen", "de Vries", "van den Berg", "Bakker", "Visser", "Smit",
               "Meijer", "de Boer", "Mulder", "Bos", "Vos")),
}

EMAIL_DOMAINS = ("example.com", "example.org", "example.net", "mail.example.com")
ACQUISITION_CHANNELS = ("organic", "search", "social", "referral", "newsletter")
PAGES = ("Home", "Category", "Search", "Journal", "About")
