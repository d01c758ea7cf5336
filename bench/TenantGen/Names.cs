namespace TenantGen;

/// <summary>Fixed name lists (ASCII, so ids and UPNs can be derived from them directly).</summary>
internal static class Names
{
    public static readonly string[] First =
    [
        "Aaron", "Abigail", "Adam", "Adriana", "Ahmed", "Aisha", "Alan", "Alexis", "Amara", "Amelia",
        "Amir", "Ana", "Andre", "Angela", "Anika", "Anton", "Arjun", "Ava", "Ben", "Bianca",
        "Brandon", "Brianna", "Caleb", "Camila", "Carlos", "Chen", "Chloe", "Chris", "Clara", "Connor",
        "Daniel", "Dana", "Derek", "Divya", "Dmitri", "Ebony", "Eduardo", "Eli", "Emily", "Emma",
        "Eric", "Erin", "Farah", "Felix", "Fiona", "Gabriel", "Gemma", "George", "Gloria", "Hamza",
        "Hana", "Hector", "Helen", "Henry", "Ian", "Imani", "Isaac", "Isabel", "Ivan", "Jack",
        "Jade", "James", "Jasmine", "Javier", "Jenna", "Jin", "Jonah", "Jordan", "Julia", "Kai",
        "Karen", "Kevin", "Kira", "Laila", "Lars", "Laura", "Leo", "Liam", "Lina", "Logan",
        "Lucas", "Luis", "Maya", "Mateo", "Megan", "Mei", "Michael", "Mia", "Mohammed", "Nadia",
        "Naomi", "Nathan", "Neha", "Nia", "Noah", "Oscar", "Owen", "Paula", "Peter", "Quinn",
        "Rachel", "Rafael", "Rahul", "Rebecca", "Ricardo", "Rosa", "Ryan", "Sara", "Sean", "Shreya",
        "Simon", "Sophie", "Stefan", "Tanya", "Theo", "Tina", "Tom", "Uma", "Vanessa", "Vikram",
        "Wei", "William", "Yara", "Yusuf", "Zara", "Zhang", "Kwame", "Ingrid", "Mateus", "Leila",
    ];

    public static readonly string[] Last =
    [
        "Abbott", "Adeyemi", "Ahmed", "Alvarez", "Andersen", "Bailey", "Banerjee", "Barnes", "Becker", "Bennett",
        "Brooks", "Bui", "Campbell", "Carter", "Castillo", "Chan", "Chavez", "Cohen", "Collins", "Costa",
        "Cruz", "Das", "Davies", "Diaz", "Dubois", "Edwards", "Evans", "Fischer", "Flores", "Foster",
        "Garcia", "Gomez", "Gonzalez", "Gupta", "Hall", "Hansen", "Harris", "Hayes", "Hernandez", "Hoffman",
        "Hughes", "Ibrahim", "Ito", "Jackson", "Jensen", "Johansson", "Johnson", "Kang", "Kapoor", "Kaur",
        "Kelly", "Khan", "Kim", "Klein", "Kowalczyk", "Kumar", "Larsen", "Lee", "Lewis", "Li",
        "Lopez", "Lund", "Mahmoud", "Martinez", "Mendoza", "Meyer", "Miller", "Mitchell", "Morales", "Moreau",
        "Murphy", "Nakamura", "Nelson", "Nguyen", "Novak", "Obi", "Olsen", "Ortiz", "Osei", "Patel",
        "Perez", "Petersen", "Phillips", "Popescu", "Quinn", "Ramirez", "Reddy", "Reyes", "Richter", "Rivera",
        "Roberts", "Rossi", "Sanchez", "Sato", "Schmidt", "Schneider", "Shah", "Silva", "Singh", "Sokolov",
        "Stewart", "Suzuki", "Tanaka", "Taylor", "Thompson", "Torres", "Tran", "Turner", "Vargas", "Volkov",
        "Wagner", "Walker", "Wang", "Ward", "Watson", "Weber", "Williams", "Wilson", "Wright", "Yamamoto",
        "Yilmaz", "Young", "Zhou", "Zimmermann", "Okoro", "Haddad", "Lindgren", "Mensah", "Ferreira", "Novotny",
    ];

    /// <summary>Words for synthetic group and project names.</summary>
    public static readonly string[] Words =
    [
        "Aurora", "Beacon", "Cascade", "Delta", "Ember", "Falcon", "Granite", "Harbor", "Iris", "Juniper",
        "Kestrel", "Lumen", "Meridian", "Nimbus", "Onyx", "Pioneer", "Quartz", "Raven", "Summit", "Tundra",
        "Umbra", "Vertex", "Willow", "Xenon", "Yonder", "Zephyr", "Atlas", "Borealis", "Comet", "Dune",
        "Echo", "Fjord", "Glacier", "Horizon", "Ion", "Jade", "Krypton", "Lotus", "Mosaic", "Nova",
        "Orbit", "Prism", "Quasar", "Ridge", "Sierra", "Tidal", "Unity", "Vista", "Wave", "Zenith",
    ];

    public static readonly string[] Vendors =
    [
        "fabrikam.com", "northwindtraders.com", "litware.com", "adatum.com", "alpineskihouse.com",
        "woodgrovebank.com", "wingtiptoys.com", "proseware.com", "lucernepublishing.com", "fourthcoffee.com",
    ];

    public static readonly string[] DirectoryRoles =
    [
        "Global Administrator", "Privileged Role Administrator", "User Administrator", "Exchange Administrator",
        "SharePoint Administrator", "Security Administrator", "Helpdesk Administrator", "Application Administrator",
        "Billing Administrator", "Compliance Administrator", "Groups Administrator", "Authentication Administrator",
    ];

    public static string Slug(string s) => s.ToLowerInvariant();
}
