import type { AppServices } from '../app';
import { isDevelopmentEnv } from '../config';
import { createMailer, type Mailer } from '../mail/mailer';
import { startMailSink, type MailSink } from '../mail/sink';
import { ScheduleRunner } from './runner';

export interface Sending {
  sink?: MailSink;
  runner?: ScheduleRunner;
  close(): Promise<void>;
}

/**
 * Scheduled sends in one process (docs/profiles.md). Without SMTP_URL, the
 * single-process local modes start the embedded sink (.eml files under
 * MAIL_LOCAL_DIR); separate processes then have no mail server, and the
 * API refuses schedules with that reason. Processes that run exports
 * (all-in-one, worker) run the schedule timer.
 */
export async function startSending(role: 'all' | 'api' | 'worker', services: AppServices, apiPort?: number): Promise<Sending> {
  const { config, logger } = services;
  let sink: MailSink | undefined;
  if (!config.smtpUrl && role === 'all' && isDevelopmentEnv(config.nodeEnv)) {
    sink = await startMailSink(config.mailLocalDir);
    services.sending.smtpUrl = sink.url;
    logger.info({ smtp: sink.url, directory: sink.directory }, 'Embedded mail sink started (SMTP_URL unset): scheduled mails are written as .eml files');
  }
  const smtpUrl = services.sending.smtpUrl;
  if (!smtpUrl) {
    if (role !== 'api') logger.info('SMTP_URL is not set: scheduled sends are off in this process');
    return { sink, close: async () => undefined };
  }
  if (role === 'api') return { sink, close: async () => sink?.close() };
  const mailer: Mailer = createMailer(smtpUrl, config.mailFrom);
  const runner = new ScheduleRunner({
    dataSource: services.dataSource,
    exports: services.exports,
    config,
    logger,
    mailer,
    publicUrl: config.publicUrl ?? `http://localhost:${apiPort ?? config.port}`,
  });
  runner.start();
  return {
    sink,
    runner,
    async close() {
      await runner.stop();
      mailer.close();
      await sink?.close();
    },
  };
}
