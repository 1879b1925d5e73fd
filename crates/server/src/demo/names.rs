//! The demo's hand-made word lists: people's names from many cultures (with the accents
//! and letters a roster really holds, so the desktop's sorting, search and fonts meet them),
//! job titles, client companies, offices, workspaces and partner firms.

/// Given names, mixed cultures and genders.
#[rustfmt::skip]
pub const FIRST_NAMES: &[&str] = &[
    // English-speaking
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David",
    "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas",
    "Sarah", "Charles", "Karen", "Christopher", "Nancy", "Daniel", "Lisa", "Matthew", "Betty",
    "Anthony", "Margaret", "Mark", "Sandra", "Emily", "Olivia", "Ethan", "Hannah", "Grace",
    "Chloe", "Jack", "Oliver", "Harry", "Amelia", "Isla", "Ruby", "Noah", "Liam", "Zoë",
    "Chelsea", "Brandon", "Tyler", "Megan", "Kayla",
    // Irish, Scottish, Welsh
    "Siobhán", "Seán", "Aoife", "Niamh", "Ciarán", "Róisín", "Pádraig", "Eóin", "Saoirse",
    "Caoimhe", "Iain", "Mhairi", "Rhys", "Carys", "Dafydd",
    // Spanish and Latin American
    "José", "María", "Lucía", "Sofía", "Martín", "Alejandro", "Valentina", "Mateo", "Camila",
    "Sebastián", "Ximena", "Joaquín", "Inés", "Andrés", "Begoña", "Íñigo", "Nuria", "Raúl",
    "Guadalupe", "Rocío",
    // Portuguese and Brazilian
    "João", "Gonçalo", "Conceição", "Thiago", "Letícia", "Luíza", "Tomás", "Fábio", "Beatriz",
    "Antônio",
    // French
    "François", "Hélène", "Amélie", "Léa", "Étienne", "Chloé", "Mathéo", "Noémie", "Jérôme",
    "Cécile", "Anaïs", "Gaëlle", "Loïc", "Benoît", "Céline",
    // German, Austrian, Swiss
    "Jürgen", "Jörg", "Dieter", "Lukas", "Anja", "Katharina", "Maximilian", "Björn", "Günther",
    "Ursula", "Hannelore", "Florian", "Lena", "Jonas", "Käthe",
    // Italian
    "Giulia", "Alessandro", "Francesca", "Niccolò", "Chiara", "Lorenzo", "Giovanni", "Martina",
    "Federico", "Elisa",
    // Dutch and Flemish
    "Sanne", "Daan", "Femke", "Joris", "Maarten", "Anouk", "Sven", "Lieke",
    // Nordic
    "Åsa", "Björk", "Søren", "Ingrid", "Mikkel", "Signe", "Eeva", "Jussi", "Sigríður", "Þórunn",
    "Ástríður", "Øystein", "Malin", "Eerik", "Päivi",
    // Polish, Czech, Slovak
    "Łukasz", "Małgorzata", "Paweł", "Agnieszka", "Wojciech", "Zofia", "Kateřina", "Jiří",
    "Tomáš", "Zuzana", "Bożena", "Grzegorz",
    // Hungarian, Romanian, Balkan
    "Zsófia", "Gábor", "Ágnes", "Dóra", "Ștefan", "Ioana", "Mihai", "Željko", "Ivana", "Dragan",
    "Milica", "Jelena", "Čedomir",
    // Greek and Turkish
    "Dimitris", "Eleni", "Giorgos", "Katerina", "Nikos", "Ayşe", "Mehmet", "Müge", "Çağla",
    "Emre", "Gülşen", "Oğuz", "Şebnem",
    // Arabic, Persian, Hebrew
    "Ahmed", "Fatima", "Omar", "Layla", "Youssef", "Noor", "Karim", "Amira", "Hassan", "Yasmin",
    "Dariush", "Shirin", "Parisa", "Reza", "Noa", "Yael", "Avi", "Tamar",
    // South Asian
    "Priya", "Arjun", "Ananya", "Rahul", "Deepika", "Vikram", "Aisha", "Rohan", "Kavya",
    "Sanjay", "Meera", "Aditya", "Lakshmi", "Imran", "Farhan", "Nadia",
    // Chinese (pinyin), Taiwanese, Hong Kong
    "Wei", "Li", "Fang", "Jing", "Xiaoming", "Yan", "Hao", "Mei", "Jun", "Lan", "Zhiwei",
    "Xinyi", "Ka-Wai", "Wing",
    // Japanese and Korean
    "Haruto", "Yui", "Sōta", "Aoi", "Kenji", "Sakura", "Yūki", "Hiroshi", "Minji", "Jisoo",
    "Seo-yeon", "Min-jun", "Ji-ho", "Hyun-woo",
    // Vietnamese, Thai, Filipino, Indonesian
    "Minh", "Thảo", "Linh", "Quang", "Somchai", "Nattaya", "Kittisak", "Maricel", "Jericho",
    "Ayu", "Budi", "Putri",
    // African
    "Chidi", "Ngozi", "Oluwaseun", "Adaeze", "Kwame", "Ama", "Kofi", "Abena", "Thabo",
    "Nomvula", "Sipho", "Zanele", "Amara", "Tendai", "Wanjiru", "Kamau", "Aster", "Dawit",
    "Fatoumata", "Moussa",
    // Russian, Ukrainian
    "Olga", "Dmitri", "Natalia", "Sergei", "Anastasia", "Oleksandr", "Yulia", "Bohdan",
];

/// Family names, mixed cultures.
#[rustfmt::skip]
pub const LAST_NAMES: &[&str] = &[
    // English-speaking
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Anderson",
    "Taylor", "Thomas", "Moore", "Jackson", "Martin", "Lee", "Thompson", "White", "Harris",
    "Clark", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott",
    "Green", "Baker", "Adams", "Nelson", "Hill", "Campbell", "Mitchell", "Roberts", "Carter",
    "Phillips", "Evans", "Turner", "Parker", "Collins", "Edwards", "Stewart", "Morris",
    "Murphy", "Cook", "Rogers", "Morgan", "Cooper", "Peterson",
    // Irish, Scottish, Welsh
    "O'Brien", "O'Connor", "Ó Súilleabháin", "MacDonald", "McAllister", "Ní Bhriain",
    "Fitzgerald", "Gallagher", "Llewellyn", "Pryce",
    // Spanish and Latin American
    "García", "Rodríguez", "Martínez", "Hernández", "López", "González", "Pérez", "Sánchez",
    "Ramírez", "Torres", "Flores", "Gómez", "Díaz", "Núñez", "Muñoz", "Jiménez", "Ibáñez",
    "Castañeda", "Vázquez", "Ortega",
    // Portuguese and Brazilian
    "Silva", "Santos", "Oliveira", "Souza", "Conceição", "Gonçalves", "Araújo", "Magalhães",
    "Assunção", "Brandão",
    // French
    "Dubois", "Lefèvre", "Moreau", "Fournier", "Girard", "Bonnet", "Mercier", "Lévêque",
    "Rousseau", "Fontaine", "Chevalier", "Gauthier", "Bérénger", "Lemaître", "Dupré",
    // German, Austrian, Swiss
    "Müller", "Schmidt", "Schneider", "Fischer", "Weiß", "Schäfer", "Köhler", "Hoffmann",
    "Krüger", "Groß", "Bäcker", "Schröder", "Zimmermann", "Neumann", "Würth",
    // Italian
    "Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "Marino",
    "De Luca",
    // Dutch and Flemish
    "de Jong", "Jansen", "van Dijk", "Bakker", "Visser", "van den Berg", "Smits", "Peeters",
    // Nordic
    "Andersson", "Johansson", "Nilsson", "Sørensen", "Jørgensen", "Østergaard", "Kristiansen",
    "Virtanen", "Mäkinen", "Häkkinen", "Guðmundsdóttir", "Jónsson", "Þórsson", "Lindqvist",
    "Åberg",
    // Polish, Czech, Slovak
    "Nowak", "Kowalski", "Wiśniewska", "Wójcik", "Kamiński", "Lewandowska", "Zieliński",
    "Szymańska", "Dvořák", "Novák", "Černý", "Procházková", "Kučera", "Horváth",
    // Hungarian, Romanian, Balkan
    "Nagy", "Kovács", "Tóth", "Szabó", "Popescu", "Ionescu", "Țurcanu", "Petrović", "Jovanović",
    "Horvat", "Kovačević", "Babić", "Đorđević",
    // Greek and Turkish
    "Papadopoulos", "Georgiou", "Nikolaidis", "Konstantinou", "Yılmaz", "Kaya", "Demir",
    "Şahin", "Çelik", "Öztürk", "Aydın",
    // Arabic, Persian, Hebrew
    "Haddad", "Khalil", "Nasser", "Mansour", "Al-Farsi", "El-Amin", "Hosseini", "Rahimi",
    "Karimi", "Tehrani", "Cohen", "Levi", "Mizrahi", "Friedman",
    // South Asian
    "Patel", "Sharma", "Singh", "Kumar", "Gupta", "Iyer", "Reddy", "Nair", "Chatterjee",
    "Banerjee", "Menon", "Rao", "Khan", "Chowdhury", "Qureshi", "Siddiqui",
    // Chinese, Taiwanese, Hong Kong
    "Wang", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou", "Xu", "Sun", "Ma",
    "Chan", "Wong", "Leung", "Lin",
    // Japanese and Korean
    "Satō", "Suzuki", "Takahashi", "Tanaka", "Watanabe", "Itō", "Yamamoto", "Nakamura",
    "Kobayashi", "Katō", "Kim", "Park", "Choi", "Jung", "Kang",
    // Vietnamese, Thai, Filipino, Indonesian
    "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Võ", "Srisai", "Wongsawat", "Santiago", "Reyes",
    "Dela Cruz", "Bautista", "Wijaya", "Santoso", "Kusuma",
    // African
    "Okafor", "Adeyemi", "Okonkwo", "Mensah", "Asante", "Boateng", "Nkosi", "Dlamini",
    "Mokoena", "Ndlovu", "Mwangi", "Kariuki", "Odhiambo", "Tesfaye", "Bekele", "Traoré",
    "Diallo", "Keïta", "Ngũgĩ",
    // Russian, Ukrainian
    "Ivanova", "Petrov", "Smirnova", "Kuznetsov", "Popova", "Shevchenko", "Kovalenko",
    "Bondarenko",
];

/// Job titles of ordinary members.
#[rustfmt::skip]
pub const TITLES: &[&str] = &[
    "Software Engineer", "Senior Software Engineer", "Staff Engineer", "QA Analyst",
    "Product Manager", "Product Designer", "UX Researcher", "Data Analyst", "Data Scientist",
    "Account Executive", "Sales Development Representative", "Regional Sales Manager",
    "Customer Success Manager", "Support Specialist", "Marketing Manager", "Content Strategist",
    "Brand Designer", "Accountant", "Financial Analyst", "Controller", "Payroll Specialist",
    "HR Business Partner", "Recruiter", "Office Manager", "Executive Assistant",
    "Legal Counsel", "Paralegal", "Procurement Officer", "Operations Manager",
    "Logistics Coordinator", "Warehouse Supervisor", "Project Manager", "Programme Director",
    "Business Analyst", "Facilities Coordinator", "Research Scientist", "Lab Technician",
    "Quality Manager", "Compliance Officer", "Training Coordinator", "Communications Lead",
    "Head of Sales", "VP Engineering", "Chief Financial Officer", "Chief Operating Officer",
    "Store Manager", "Nurse Practitioner", "Clinical Coordinator", "Field Technician",
    "Service Desk Analyst",
];

/// Titles of people who run the org's accounts (admins and admin-like roles).
#[rustfmt::skip]
pub const ADMIN_TITLES: &[&str] = &[
    "IT Director", "Systems Administrator", "IT Manager", "Head of IT", "IT Operations Lead",
    "Identity & Access Manager",
];

/// Titles of the partner's own staff.
#[rustfmt::skip]
pub const PARTNER_TITLES: &[&str] = &[
    "Partner Account Manager", "Service Delivery Manager", "Cloud Consultant",
    "Billing Coordinator", "Technical Account Manager", "Onboarding Specialist",
];

/// Titles of guests (people from other firms).
#[rustfmt::skip]
pub const GUEST_TITLES: &[&str] = &[
    "External Consultant", "Auditor", "Contractor", "Agency Designer", "Implementation Partner",
    "Interim Manager", "Freelance Developer",
];

/// Firms whose people are guests in the client orgs (contractors, auditors, agencies).
#[rustfmt::skip]
pub const GUEST_COMPANIES: &[&str] = &[
    "Fabrikam Consulting", "Trey Research", "Proseware Advisory", "Lucerne Audit Partners",
    "Margie's Travel", "Graphic Design Institute", "First Up Consultants", "Nod Publishers",
    "Boutique Digitale Lumière", "Kraków Code Sp. z o.o.", "Osaka Bridge KK",
    "Andes Analytics S.A.", "Lagos Creative Hub", "Baltic Freight OÜ",
];

/// Client companies: (name, email domain). Names are fictional (many from Microsoft's
/// sample companies); domains are under `.example` (RFC 2606), which never receives mail.
pub const CLIENTS: &[(&str, &str)] = &[
    ("Contoso Ltd", "contoso.example"),
    ("Fabrikam Inc", "fabrikam.example"),
    ("Tailspin Toys", "tailspintoys.example"),
    ("Wingtip Toys", "wingtiptoys.example"),
    ("Adventure Works Cycles", "adventure-works.example"),
    ("Litware Inc", "litware.example"),
    ("Woodgrove Bank", "woodgrovebank.example"),
    ("Alpine Ski House", "alpineskihouse.example"),
    ("Coho Winery", "cohowinery.example"),
    ("Fourth Coffee", "fourthcoffee.example"),
    ("Lucerne Publishing", "lucernepublishing.example"),
    ("Wide World Importers", "wideworldimporters.example"),
    ("Blue Yonder Airlines", "blueyonderairlines.example"),
    ("City Power & Light", "cpandl.example"),
    ("Humongous Insurance", "humongousinsurance.example"),
    ("Southridge Video", "southridgevideo.example"),
    ("VanArsdel Ltd", "vanarsdel.example"),
    ("Relecloud", "relecloud.example"),
    ("Lamna Healthcare Company", "lamnahealthcare.example"),
    ("Bellows College", "bellowscollege.example"),
    ("Consolidated Messenger", "consolidatedmessenger.example"),
    ("A. Datum Corporation", "adatum.example"),
    ("Tailwind Traders", "tailwindtraders.example"),
    ("Best For You Organics", "bestforyouorganics.example"),
    ("Munson's Pickles and Preserves", "munsonspickles.example"),
    ("School of Fine Art", "fineartschool.example"),
    ("Müller & Söhne Logistik GmbH", "mueller-soehne.example"),
    ("Brasserie Lumière SARL", "brasserie-lumiere.example"),
    ("Østergaard Design ApS", "oestergaard-design.example"),
    ("Café Açaí Ltda", "cafeacai.example"),
    ("Zürich Präzision AG", "zuerich-praezision.example"),
    ("Łódź Software Sp. z o.o.", "lodz-software.example"),
    ("Sakura Robotics KK", "sakurarobotics.example"),
    ("Nairobi Green Energy", "nairobigreen.example"),
    ("Anadolu Tekstil A.Ş.", "anadolutekstil.example"),
    ("Mumbai Spice Exports", "mumbaispice.example"),
    ("Cedar & Pine Architects", "cedarpine.example"),
    ("Harbourview Medical Group", "harbourviewmedical.example"),
    ("Aurora Borealis Tours", "auroratours.example"),
    ("Kiwi Orchard Co-op", "kiwiorchard.example"),
];

/// An office: its city, street address, postal code, and the phone prefix (country and
/// area code, E.164 digits after the `+`) with the digits a local number adds to it.
pub struct Office {
    pub city: &'static str,
    pub street: &'static str,
    pub postal_code: &'static str,
    pub dial: &'static str,
    pub local_digits: usize,
}

#[rustfmt::skip]
pub const OFFICES: &[Office] = &[
    Office { city: "London", street: "1 Canada Square", postal_code: "E14 5AB", dial: "4420", local_digits: 8 },
    Office { city: "Manchester", street: "62 Deansgate", postal_code: "M3 2EN", dial: "44161", local_digits: 7 },
    Office { city: "Dublin", street: "4 Grand Canal Quay", postal_code: "D02 Y754", dial: "3531", local_digits: 7 },
    Office { city: "New York", street: "350 Fifth Avenue", postal_code: "10118", dial: "1212", local_digits: 7 },
    Office { city: "Seattle", street: "1201 Third Avenue", postal_code: "98101", dial: "1206", local_digits: 7 },
    Office { city: "Chicago", street: "233 South Wacker Drive", postal_code: "60606", dial: "1312", local_digits: 7 },
    Office { city: "Toronto", street: "100 King Street West", postal_code: "M5X 1A9", dial: "1416", local_digits: 7 },
    Office { city: "São Paulo", street: "Avenida Paulista 1578", postal_code: "01310-200", dial: "5511", local_digits: 8 },
    Office { city: "Ciudad de México", street: "Paseo de la Reforma 505", postal_code: "06500", dial: "5255", local_digits: 8 },
    Office { city: "Madrid", street: "Calle de Alcalá 48", postal_code: "28014", dial: "3491", local_digits: 7 },
    Office { city: "Paris", street: "12 rue de Rivoli", postal_code: "75004", dial: "331", local_digits: 8 },
    Office { city: "Lyon", street: "8 place Bellecour", postal_code: "69002", dial: "334", local_digits: 8 },
    Office { city: "Berlin", street: "Friedrichstraße 68", postal_code: "10117", dial: "4930", local_digits: 8 },
    Office { city: "München", street: "Maximilianstraße 12", postal_code: "80539", dial: "4989", local_digits: 8 },
    Office { city: "Zürich", street: "Bahnhofstrasse 45", postal_code: "8001", dial: "4144", local_digits: 7 },
    Office { city: "Amsterdam", street: "Herengracht 420", postal_code: "1017 BZ", dial: "3120", local_digits: 7 },
    Office { city: "København", street: "Østergade 24", postal_code: "1100", dial: "45", local_digits: 8 },
    Office { city: "Stockholm", street: "Drottninggatan 33", postal_code: "111 51", dial: "468", local_digits: 8 },
    Office { city: "Warszawa", street: "ul. Marszałkowska 104", postal_code: "00-017", dial: "4822", local_digits: 7 },
    Office { city: "İstanbul", street: "Büyükdere Caddesi 185", postal_code: "34394", dial: "90212", local_digits: 7 },
    Office { city: "Dubai", street: "Sheikh Zayed Road 1", postal_code: "00000", dial: "9714", local_digits: 7 },
    Office { city: "Bengaluru", street: "12 MG Road", postal_code: "560001", dial: "9180", local_digits: 8 },
    Office { city: "Singapore", street: "8 Marina View", postal_code: "018960", dial: "65", local_digits: 8 },
    Office { city: "Tōkyō", street: "1-1 Marunouchi, Chiyoda-ku", postal_code: "100-0005", dial: "813", local_digits: 8 },
    Office { city: "Sydney", street: "200 George Street", postal_code: "2000", dial: "612", local_digits: 8 },
    Office { city: "Auckland", street: "88 Shortland Street", postal_code: "1010", dial: "649", local_digits: 7 },
    Office { city: "Johannesburg", street: "144 Oxford Road, Rosebank", postal_code: "2196", dial: "2711", local_digits: 7 },
    Office { city: "Nairobi", street: "Kenyatta Avenue 12", postal_code: "00100", dial: "25420", local_digits: 7 },
    Office { city: "Lagos", street: "15 Adeola Odeku Street", postal_code: "101241", dial: "2341", local_digits: 7 },
];

/// Workspace names (the documents' spaces).
#[rustfmt::skip]
pub const WORKSPACES: &[&str] = &[
    "All Staff", "Engineering", "Sales", "Marketing", "Finance", "People & Culture", "Legal",
    "IT Operations", "Customer Success", "Product", "Board", "Research", "Sales EMEA",
    "Sales Americas", "Sales APAC", "Facilities", "Projects – Phoenix", "Projects – Atlas",
    "Security", "Partners & Vendors",
];

/// Options of the demo's one-of properties.
#[rustfmt::skip]
pub const COST_CENTRES: &[&str] = &[
    "CC-100 Operations", "CC-200 Sales", "CC-300 Engineering", "CC-400 Finance",
    "CC-500 People", "CC-600 Marketing",
];
pub const CLEARANCES: &[&str] = &["Public", "Internal", "Confidential", "Restricted"];
pub const SHIRT_SIZES: &[&str] = &["XS", "S", "M", "L", "XL", "XXL"];

/// Letters of the names above spelled in ASCII, for email addresses.
#[rustfmt::skip]
const FOLDS: &[(char, &str)] = &[
    ('á', "a"), ('à', "a"), ('â', "a"), ('ä', "a"), ('ã', "a"), ('å', "a"), ('ā', "a"),
    ('ạ', "a"), ('ç', "c"), ('ć', "c"), ('č', "c"), ('đ', "d"), ('ð', "d"), ('é', "e"),
    ('è', "e"), ('ê', "e"), ('ë', "e"), ('ē', "e"), ('ę', "e"), ('ě', "e"), ('ễ', "e"),
    ('ğ', "g"), ('í', "i"), ('ì', "i"), ('î', "i"), ('ï', "i"), ('ı', "i"), ('ĩ', "i"),
    ('ł', "l"), ('ñ', "n"), ('ń', "n"), ('ó', "o"), ('ò', "o"), ('ô', "o"), ('ö', "o"),
    ('õ', "o"), ('ø', "o"), ('ō', "o"), ('ő', "o"), ('ř', "r"), ('ś', "s"), ('š', "s"),
    ('ş', "s"), ('ș', "s"), ('ț', "t"), ('ţ', "t"), ('ú', "u"), ('ù', "u"), ('û', "u"),
    ('ü', "u"), ('ů', "u"), ('ű', "u"), ('ū', "u"), ('ũ', "u"), ('ý', "y"), ('ÿ', "y"),
    ('ź', "z"), ('ż', "z"), ('ž', "z"), ('ß', "ss"), ('æ', "ae"), ('œ', "oe"), ('þ', "th"),
    ('ả', "a"), ('ầ', "a"), ('ơ', "o"), ('ư', "u"),
];

/// A name as the local part of an email address: lower-case ASCII letters and hyphens
/// (accents folded, apostrophes and spaces dropped: "Ó Súilleabháin" → "osuilleabhain").
pub fn email_part(name: &str) -> String {
    let mut part = String::with_capacity(name.len());
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' {
            part.push(c);
        } else if let Some((_, ascii)) = FOLDS.iter().find(|(letter, _)| *letter == c) {
            part.push_str(ascii);
        }
    }
    part
}

/// Whether every letter of `name` has an ASCII spelling (checked by the tests for every
/// name above, so no address loses a letter).
#[cfg(test)]
pub fn folds_fully(name: &str) -> bool {
    name.chars().flat_map(char::to_lowercase).all(|c| {
        c.is_ascii_alphanumeric()
            || matches!(c, '-' | '\'' | ' ' | '.' | '&')
            || FOLDS.iter().any(|(letter, _)| *letter == c)
    })
}
