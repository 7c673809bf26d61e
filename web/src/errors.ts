import type { ApiError } from './api';

/**
 * Every refusal the page shows, in French, from its `extensions.code` —
 * the one place that maps codes to words. The code stays visible (support
 * asks for it); the API's own (English) sentence is kept in a "Détail"
 * the user may open, never as the message.
 */
const MESSAGES: Record<string, string> = {
  FORBIDDEN: "Votre rôle ne permet pas cette action. Demandez à un administrateur de la structure.",
  UNAUTHENTICATED: 'Votre session a expiré ou le jeton a été refusé : connectez-vous à nouveau.',
  BAD_USER_INPUT: 'La demande a été refusée : une valeur ne convient pas.',
  NOT_FOUND: "Cet élément n'existe plus (supprimé entre-temps ?). Rechargez la page.",
  RATE_LIMITED: "Trop de demandes en peu de temps : patientez un instant puis réessayez.",
  INTERNAL_SERVER_ERROR: 'Le service a rencontré une erreur. Réessayez ; si cela se répète, contactez le support avec le code ci-dessous.',
  NETWORK_ERROR: 'Le service ne répond pas : vérifiez la connexion puis réessayez.',
  GRAPHQL_ERROR: "La demande n'a pas pu être traitée.",
};

/** Known refusals whose reason the page can say precisely, found in the API's message. */
const PRECISE: [RegExp, string][] = [
  [/search is too long/i, 'La recherche est trop longue (200 caractères au plus).'],
  [/selection is empty/i, 'La sélection est vide : cochez au moins une pièce.'],
  [/No VAT account for the rate/i, "Un taux de TVA de la sélection n'a pas de compte dans les paramètres comptables : renseignez-le avant d'exporter les écritures."],
  [/already exists/i, 'Un profil porte déjà ce nom : choisissez-en un autre.'],
  [/has no column/i, "Une colonne choisie n'existe pas pour cet export."],
  [/twice/i, 'Une colonne est choisie deux fois.'],
  [/SMTP_URL/, "Les envois programmés ne sont pas disponibles : le serveur de messagerie n'est pas configuré."],
  [/used by a scheduled send/i, 'Ce profil est utilisé par un envoi programmé : supprimez ou modifiez cet envoi d\'abord.'],
  [/Too many active exports|at most \d+ exports/i, "Trop d'exports en cours pour la structure : attendez qu'un export se termine."],
];

export interface Refusal {
  text: string;
  code: string;
  detail: string;
}

export function refusal(e: ApiError): Refusal {
  const precise = PRECISE.find(([re]) => re.test(e.message))?.[1];
  return { text: precise ?? MESSAGES[e.code] ?? "L'action n'a pas abouti.", code: e.code, detail: e.message };
}

/** `Export refusé (FORBIDDEN) : Votre rôle ne permet pas…` */
export const refusalLine = (prefix: string, e: ApiError) => {
  const r = refusal(e);
  return `${prefix} (${r.code}) : ${r.text}`;
};
