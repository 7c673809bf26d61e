/**
 * What a French music school bills, and the people it bills: the vocabulary of
 * the seed. Prices are annual tariffs in integer cents (BigInt) for the
 * earliest year; the generator raises them year after year.
 */

/** Parents (payers). Accents, hyphens and a few rarer spellings on purpose. */
export const PARENT_FIRST_NAMES = [
  'Marie', 'Christen', 'Julien', 'Bénédicte', 'François', 'Jérôme', 'Stéphane', 'Hélène',
  'Valérie', 'Sébastien', 'Frédéric', 'Cécile', 'Agnès', 'Aurélie', 'Jean-François', 'Marie-Noëlle',
  'Anne-Sophie', 'Noël', 'Joël', 'Benoît', 'Loïc', 'Élodie', 'Sandrine', 'Nathalie',
  'Laurent', 'Thierry', 'Isabelle', 'Véronique', 'Pascal', 'Karine', 'Gaëlle', 'Rémi',
  'Séverine', 'Hervé', 'Mélanie', 'Émilie', 'Grégory', 'Delphine', 'Jérémy', 'Sophie',
  'Nicolas', 'Céline', 'Olivier', 'Anaïs', 'Maëlle', 'Héloïse', 'Chloé', 'Zoé',
] as const;

/** Pupils (children of payers). */
export const PUPIL_FIRST_NAMES = [
  'Héloïse', 'Anaïs', 'Chloé', 'Léa', 'Zoé', 'Maëlle', 'Basile', 'Cindy',
  'Johanna', 'Léo', 'Hugo', 'Inès', 'Théo', 'Célia', 'Mathéo', 'Gaël',
  'Raphaël', 'Océane', 'Clément', 'Émile', 'Lucas', 'Louise', 'Arthur', 'Jules',
  'Camille', 'Manon', 'Nathan', 'Emma', 'Gabriel', 'Adèle', 'Timothée', 'Solène',
  'Thaïs', 'Eugénie', 'Noémie', 'Jade', 'Lina', 'Paul', 'Zélie', 'Anaëlle',
  'Noé', 'Bérénice', 'Aloïs', 'Capucine', 'Maël', 'Léonie', 'Noël', 'Lou-Anne',
] as const;

/** Stored upper case, as the product stores them. */
export const LAST_NAMES = [
  'ACHARD', 'BUSSON', 'LEFÈVRE', 'DUPRÉ', 'FAURÉ', 'NORWAY', 'MARTIN', 'BERNARD',
  'THOMAS', 'PETIT', 'ROBERT', 'RICHARD', 'DURAND', 'DUBOIS', 'MOREAU', 'LAURENT',
  'SIMON', 'MICHEL', 'GARNIER', 'FAURE', 'ROUSSEAU', 'BLANC', 'GUÉRIN', 'MULLER',
  'HENRY', 'ROUSSEL', 'NICOLAS', 'PERRIN', 'MOREL', 'GIRARD', 'ANDRÉ', 'MERCIER',
  'BONNET', 'FRANÇOIS', 'CHEVALIER', 'LEGRAND', 'GAUTHIER', 'BOUCHER', 'DESCHAMPS', 'BÉNARD',
  'CLÉMENT', 'LEMAÎTRE', 'BOILEAU', 'GRÉGOIRE', 'HÉBERT', 'MÉNARD', 'MÉTAYER', 'LECLÈRE',
  'CHAUVIÈRE', 'CAPELLE', 'ROY', 'VIGNERON', 'JOUBERT', 'TESSIER', 'NGUYEN', 'DA SILVA',
  'BENALI', 'PÉRIGNON', 'NOËL', 'LE GOFF', 'LE GALL', 'DUPONT-MOREL', "D'ALMEIDA", "N'DIAYE",
] as const;

export type LineKind = 'course' | 'collective' | 'fm' | 'ensemble' | 'rental';

export interface CatalogueItem {
  label: string;
  activity: string | null;
  /** Annual tariff (or unit price of a one-off item) in cents, for the first year. */
  priceCents: bigint;
  /** Percent, two decimals as PostgreSQL prints numeric(5,2). */
  vatRate: string;
  accountingAccount: string | null;
  analyticCode: string | null;
}

const item = (label: string, activity: string | null, euros: number, accountingAccount: string | null, analyticCode: string | null, vatRate = '0.00'): CatalogueItem => ({
  label,
  activity,
  priceCents: BigInt(euros) * 100n,
  vatRate,
  accountingAccount,
  analyticCode,
});

/** A pupil's main lesson. Individual lessons: 706100; collective ones: 706200. */
export const COURSES: readonly CatalogueItem[] = [
  item('Cours individuel de piano 30 min', 'Piano', 520, '706100', 'PIANO'),
  item('Cours individuel de piano 45 min', 'Piano', 690, '706100', 'PIANO'),
  item('Cours individuel de violon 30 min', 'Violon', 480, '706100', 'VIOLON'),
  item('Cours individuel de violon 45 min', 'Violon', 660, '706100', 'VIOLON'),
  item('Cours individuel de violoncelle 30 min', 'Violoncelle', 480, '706100', 'CELLO'),
  item('Cours individuel de guitare 30 min', 'Guitare', 450, '706100', 'GUIT'),
  item('Cours collectif de guitare (3 élèves)', 'Guitare', 290, '706200', 'GUIT'),
  item('Cours individuel de flûte traversière 30 min', 'Flûte traversière', 460, '706100', 'FLUTE'),
  item('Cours individuel de clarinette 30 min', 'Clarinette', 460, '706100', 'CLAR'),
  item('Cours individuel de saxophone 30 min', 'Saxophone', 460, '706100', 'SAXO'),
  item('Cours individuel de trompette 30 min', 'Trompette', 460, '706100', 'TROMP'),
  item('Cours individuel de batterie 30 min', 'Batterie', 470, '706100', 'BATT'),
  item('Cours individuel de harpe 30 min', 'Harpe', 540, '706100', 'HARPE'),
  item('Cours individuel de chant 45 min', 'Chant', 640, '706100', 'CHANT'),
];
/** Relative frequency of each course above (piano and violin dominate, as everywhere). */
export const COURSE_WEIGHTS = [20, 6, 12, 4, 6, 10, 5, 7, 6, 5, 4, 6, 2, 4];

/** For pupils under 7: no instrument yet. */
export const EARLY_YEARS = item('Éveil musical', 'Éveil musical', 170, '706200', 'EVEIL');

/** Music theory, by level. */
export const MUSIC_THEORY: readonly CatalogueItem[] = [
  item('Formation musicale 1er cycle', 'Formation musicale', 190, '706200', 'FM'),
  item('Formation musicale 2e cycle', 'Formation musicale', 210, '706200', 'FM'),
  item('Formation musicale adultes', 'Formation musicale', 170, '706200', null),
];

export const ENSEMBLES: readonly CatalogueItem[] = [
  item('Orchestre junior', 'Orchestre', 90, '706200', 'ORCH'),
  item('Chorale enfants', 'Chorale', 80, '706200', 'CHOR'),
  item('Atelier jazz', 'Jazz', 110, '706200', 'JAZZ'),
  item('Musique de chambre', 'Musique de chambre', 100, '706200', 'MDC'),
  item("Orchestre d'harmonie", 'Orchestre', 90, '706200', 'ORCH'),
];

/** Instrument rental is a taxable service (20 % VAT); account 708300 "locations diverses". */
export const RENTALS: Readonly<Record<string, CatalogueItem>> = {
  Violon: item("Location d'instrument (violon 3/4)", 'Violon', 150, '708300', 'LOC', '20.00'),
  Violoncelle: item("Location d'instrument (violoncelle)", 'Violoncelle', 210, '708300', 'LOC', '20.00'),
  Clarinette: item("Location d'instrument (clarinette)", 'Clarinette', 160, '708300', 'LOC', '20.00'),
  'Flûte traversière': item("Location d'instrument (flûte traversière)", 'Flûte traversière', 160, '708300', 'LOC', '20.00'),
  Trompette: item("Location d'instrument (trompette)", 'Trompette', 140, '708300', 'LOC', '20.00'),
};

/** Once a year per family; account 756000 (cotisations). */
export const MEMBERSHIP = item("Adhésion à l'association", null, 25, '756000', null);
export const FILE_FEE = item('Frais de dossier', null, 15, '708800', null);

/** One-off items priced per unit (hour, day, book), billed with a real quantity. */
export const EXTRA_LESSON_HOUR: CatalogueItem = { ...item('Cours particulier supplémentaire (heure)', null, 0, '706100', null), priceCents: 3250n };
export const SUMMER_CAMP_DAY: CatalogueItem = { ...item("Stage d'été (journée)", 'Stage', 0, '706300', 'STAGE'), priceCents: 3800n };
export const SHEET_MUSIC: CatalogueItem = { ...item('Vente de partitions et méthodes', null, 0, '707000', null, '5.50'), priceCents: 1490n };

/** Discount lines: a negative amount on account 709000 (rabais, remises accordés). */
export const FAMILY_DISCOUNTS = [
  { label: 'Remise famille (2e enfant)', percent: 10n },
  { label: 'Remise famille (3e enfant)', percent: 15n },
] as const;
export const DISCOUNT_ACCOUNT = '709000';

/** Free-text remarks secretaries add after the pupils' names (semicolons and apostrophes included). */
export const INVOICE_REMARKS = [
  ' ; règlement en 3 fois',
  ' ; tarif QF appliqué',
  " - relance envoyée à l'adresse du père",
  ' (garde alternée : facture au parent 1)',
  " ; paiement en chèques vacances ANCV",
  ' ; Pass Culture en attente',
] as const;

/** Notes that stand alone (no pupil list). One starts with "-", as people type. */
export const STANDALONE_NOTES = [
  'Inscription tardive',
  "Voir avec la trésorière avant l'envoi",
  '- 10 % accordé par le bureau',
  'Facture remplaçant la facture papier du 12/09',
] as const;

export const CREDIT_NOTE_REASONS = [
  '',
  ' ; arrêt en cours d\'année',
  ' ; erreur de tarif',
  ' - déménagement',
  ' ; double facturation',
] as const;

export const EMAIL_DOMAINS = ['example.org', 'example.net', 'example.com', 'exemple.fr'] as const;

/**
 * Labels (CompteLib) of the accounts above, as the seed's tenants set them in
 * their accounting settings, so that the accounting export reads like the
 * school's chart of accounts (plan comptable associatif).
 */
export const ACCOUNT_LABELS: Readonly<Record<string, string>> = {
  '706100': 'Cours individuels',
  '706200': 'Cours collectifs et ateliers',
  '706300': 'Stages',
  '707000': 'Ventes de partitions et méthodes',
  '708300': "Locations d'instruments",
  '708800': 'Frais de dossier',
  '709000': 'Rabais, remises et ristournes accordés',
  '756000': 'Cotisations',
};
