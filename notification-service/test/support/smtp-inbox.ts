import { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { simpleParser, type ParsedMail } from 'mailparser';

/** A mail the test SMTP server accepted (250 sent), parsed. */
export interface ReceivedMail {
  to: string;
  subject: string;
  text: string;
  html: string;
  messageId: string;
  headers: ParsedMail['headers'];
  /** When the SMTP connection that carried it opened (ms since the epoch): tells senders apart. */
  connectedAt: number;
  /**
   * Raw header value by lower-case name (unfolded), as the wire carried it.
   * @param name header name
   */
  header(name: string): string | undefined;
}

/**
 * A real SMTP server on 127.0.0.1 for tests. A mail counts as delivered only once the server
 * has answered 250 to its DATA, exactly as a real MTA would; `hold` lets a test keep a mail
 * in the middle of DATA (no answer yet) to kill the sender at that moment.
 */
export class SmtpInbox extends EventEmitter {
  readonly mails: ReceivedMail[] = [];
  private readonly connectedAt = new Map<string, number>();
  private server: SMTPServer | undefined;
  port = 0;
  /** When set, called with each parsed mail before the 250; the mail is kept only if it resolves true. */
  hold: ((mail: ReceivedMail) => Promise<boolean>) | undefined;

  /**
   * Starts listening (again on the same port after {@link stop}).
   * @param port port to bind (default: the previous one, or any free port)
   * @returns the port
   */
  async start(port = this.port): Promise<number> {
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      // going down closes open (pooled) client connections promptly, as a stopped MTA would
      closeTimeout: 200,
      logger: false,
      // maildev-like: any credentials are fine
      onAuth: (_auth, _session, cb) => cb(null, { user: 'test' }),
      // addresses starting with "nobody-" do not exist here: 550, as a real MTA answers
      onRcptTo: (address, _session, cb) => {
        if (address.address.startsWith('nobody-')) {
          const err = new Error('No such user') as Error & { responseCode: number };
          err.responseCode = 550;
          return cb(err);
        }
        cb();
      },
      onConnect: (session, cb) => {
        this.connectedAt.set(session.id, Date.now());
        cb();
      },
      onClose: (session) => this.connectedAt.delete(session.id),
      onData: (stream, session, cb) => {
        simpleParser(stream)
          .then(async (parsed) => {
            const mail: ReceivedMail = {
              to: session.envelope.rcptTo.map((r) => r.address).join(','),
              subject: parsed.subject ?? '',
              text: parsed.text ?? '',
              html: typeof parsed.html === 'string' ? parsed.html : '',
              messageId: parsed.messageId ?? '',
              headers: parsed.headers,
              connectedAt: this.connectedAt.get(session.id) ?? 0,
              header: (name: string) => {
                const line = parsed.headerLines.find((l) => l.key === name.toLowerCase())?.line;
                return line?.slice(line.indexOf(':') + 1).replace(/\r?\n[ \t]+/g, ' ').trim();
              },
            };
            const keep = this.hold ? await this.hold(mail) : true;
            if (!keep) return cb(new Error('450 test server: not accepted'));
            this.mails.push(mail);
            cb();
            this.emit('mail', mail);
          })
          .catch((err: Error) => cb(err));
      },
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    server.on('error', () => undefined);
    this.server = server;
    this.port = (server.server.address() as AddressInfo).port;
    return this.port;
  }

  /** Stops accepting connections (mail sent now fails to connect). */
  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  /** The smtp:// URL of this server. */
  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  /**
   * Mails sent to an address so far.
   * @param to recipient
   * @returns matching mails
   */
  to(to: string): ReceivedMail[] {
    return this.mails.filter((m) => m.to === to);
  }

  /**
   * Resolves once `count` mails matching `filter` have been accepted (event-driven, no polling).
   * @param filter predicate
   * @param count how many
   * @param timeoutMs give up after
   * @returns the matching mails
   */
  waitFor(filter: (m: ReceivedMail) => boolean, count = 1, timeoutMs = 20_000): Promise<ReceivedMail[]> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.mails.filter(filter);
        if (found.length >= count) {
          clearTimeout(timer);
          this.off('mail', check);
          resolve(found);
        }
      };
      const timer = setTimeout(() => {
        this.off('mail', check);
        reject(new Error(`timed out waiting for ${count} mail(s); inbox has ${this.mails.length}: ${this.mails.map((m) => `${m.to} "${m.subject}"`).join(', ')}`));
      }, timeoutMs);
      this.on('mail', check);
      check();
    });
  }
}
