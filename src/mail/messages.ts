import { formatDecimal } from '../exports/cells';
import type { MailMessage } from './mailer';

/**
 * The mails of scheduled sends, in French (the tenants' locale): the file's
 * facts and its link; a notice for an empty period; what failed, for the
 * schedule's owner. Plain text: every mail client shows it as written.
 */

const euros = (v: string) => `${formatDecimal(v, 2, ',').replace(/\B(?=(\d{3})+(?!\d))/g, '\u202f')} €`;
const frDate = (iso: string) => `${iso.slice(8, 10)}/${iso.slice(5, 7)}/${iso.slice(0, 4)}`;
const frDateTime = (d: Date, timeZone: string) =>
  new Intl.DateTimeFormat('fr-FR', { timeZone, day: '2-digit', month: '2-digit', year: 'numeric', hour: '2-digit', minute: '2-digit' }).format(d);

/** `1,2 Mo`, `845 o` */
export function humanSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} o`;
  const units = ['Ko', 'Mo', 'Go'];
  let v = bytes / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(1).replace('.', ',')} ${units[u]}`;
}

export interface PeriodFacts {
  school: string;
  profileName: string;
  periodLabel: string;
  periodStart: string;
  periodEnd: string;
}

export interface FileFacts {
  fileName: string;
  fileSize: number;
  rowCount: number;
  invoiceCount: number;
  creditNoteCount: number;
  totalDue: string;
  link: string;
  linkExpiresAt: Date;
  timeZone: string;
}

const signature = (school: string) =>
  `\n--\nMessage envoyé automatiquement par l'envoi programmé de ${school}. Pour ne plus le recevoir, demandez à un administrateur de la structure de modifier l'envoi.`;

export function fileMail(to: string, p: PeriodFacts, f: FileFacts): MailMessage {
  return {
    to,
    subject: `${p.school} – ${p.profileName} – ${p.periodLabel}`,
    text: [
      'Bonjour,',
      '',
      `Voici l'export « ${p.profileName} » de ${p.school} pour la période ${p.periodLabel} (du ${frDate(p.periodStart)} au ${frDate(p.periodEnd)}).`,
      '',
      `Fichier : ${f.fileName} (${humanSize(f.fileSize)})`,
      `Lignes : ${f.rowCount}`,
      `Pièces : ${f.invoiceCount} facture(s), ${f.creditNoteCount} avoir(s)`,
      `Total dû : ${euros(f.totalDue)}`,
      '',
      `Télécharger le fichier : ${f.link}`,
      `Ce lien est valable jusqu'au ${frDateTime(f.linkExpiresAt, f.timeZone)}.`,
      signature(p.school),
    ].join('\n'),
  };
}

export function emptyPeriodMail(to: string, p: PeriodFacts): MailMessage {
  return {
    to,
    subject: `${p.school} – ${p.profileName} – ${p.periodLabel} : aucune pièce`,
    text: [
      'Bonjour,',
      '',
      `Aucune pièce de ${p.school} ne correspond à l'export « ${p.profileName} » pour la période ${p.periodLabel} (du ${frDate(p.periodStart)} au ${frDate(p.periodEnd)}) : il n'y a pas de fichier ce mois-ci.`,
      signature(p.school),
    ].join('\n'),
  };
}

export function failedRunMail(to: string, p: PeriodFacts, reason: string): MailMessage {
  return {
    to,
    subject: `Échec de l'envoi programmé – ${p.profileName} – ${p.periodLabel}`,
    text: [
      'Bonjour,',
      '',
      `L'envoi programmé « ${p.profileName} » de ${p.school} pour la période ${p.periodLabel} n'a pas pu produire son fichier :`,
      `  ${reason}`,
      '',
      "Les destinataires n'ont rien reçu. Corrigez la cause puis relancez l'envoi depuis la page des exports (« Envois programmés »).",
      signature(p.school),
    ].join('\n'),
  };
}

export function undeliverableMail(to: string, p: PeriodFacts, recipient: string, attempts: number, reason: string): MailMessage {
  return {
    to,
    subject: `Message non remis – ${p.profileName} – ${p.periodLabel}`,
    text: [
      'Bonjour,',
      '',
      `Le message de l'envoi programmé « ${p.profileName} » (période ${p.periodLabel}) n'a pas pu être remis à ${recipient} après ${attempts} tentative(s) :`,
      `  ${reason}`,
      '',
      "Vérifiez l'adresse dans « Envois programmés ».",
      signature(p.school),
    ].join('\n'),
  };
}
