import nodemailer from 'nodemailer';

/** One message as the senders compose it. */
export interface MailMessage {
  to: string;
  subject: string;
  text: string;
}

export interface Mailer {
  send(message: MailMessage): Promise<{ messageId: string }>;
  close(): void;
}

/** A real SMTP client (nodemailer) over `smtpUrl`, sending as `from`. */
export function createMailer(smtpUrl: string, from: string): Mailer {
  const transport = nodemailer.createTransport(smtpUrl, { from });
  return {
    async send(message) {
      const info = await transport.sendMail({ ...message, from });
      if (info.rejected?.length) throw new Error(`The server refused ${info.rejected.map(String).join(', ')}: ${info.response}`);
      return { messageId: info.messageId };
    },
    close: () => transport.close(),
  };
}
