/**
 * The fault suite's timeline: the current phase (which fault is active), the marks in the
 * report's timeline, each kill -9 and its restart, and a supervisor like docker's
 * `restart: unless-stopped`. A service process that exits on its own (not by our kill -9) is a
 * finding: recorded (it fails the suite) and started again.
 */
import type { ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';

/** A service process the supervisor watches. */
export interface Supervised {
  name: string;
  child: () => ChildProcess | undefined;
  /** Forget the exited child (so it is not reported twice). */
  forget: () => void;
  restart: () => Promise<void>;
}

/** One kill -9 as the report shows it. */
export interface Kill {
  component: string;
  signal: 'SIGKILL';
  /** The process that got the signal (command and pid). */
  process: string;
  /** From the kill until it answered again (ms). */
  downMs: number;
  /** Its start alone (ms). */
  startMs: number;
  phase: string;
}

/** See the module comment. */
export class FaultTimeline {
  phase = 'steady';
  readonly timeline: { fault: string; at: string; tMs: number }[] = [];
  readonly kills: Kill[] = [];
  readonly unexpectedExits: {
    service: string;
    phase: string;
    at: string;
    code: number | null;
    signal: string | null;
  }[] = [];
  private restarting = false;
  private supervisor: NodeJS.Timeout | undefined;

  /**
   * @param o the log, the suite's start (`performance.now()`), how long a killed component stays
   *   down and how long the load runs after it is back, and a hook called on each phase change
   */
  constructor(
    private readonly o: {
      log: (msg: string) => void;
      suiteStart: number;
      downMs: number;
      recoverMs: number;
      onPhase?: (name: string) => void;
      /** Runs just before each kill -9 (the suite's live checkpoint). */
      beforeKill?: (component: string) => void;
    },
  ) {}

  /**
   * Enters a phase.
   * @param name its name
   */
  setPhase(name: string): void {
    this.phase = name;
    this.o.onPhase?.(name);
  }

  /**
   * Enters a phase and stays in it.
   * @param name its name
   * @param ms how long
   */
  async hold(name: string, ms: number): Promise<void> {
    this.setPhase(name);
    await sleep(ms);
  }

  /**
   * Adds a line to the timeline (and the log).
   * @param fault what happened
   */
  mark(fault: string): void {
    this.timeline.push({
      fault,
      at: new Date().toISOString(),
      tMs: Math.round(performance.now() - this.o.suiteStart),
    });
    this.o.log(fault);
  }

  /**
   * Starts watching service processes.
   * @param watched returns the processes (they may change)
   */
  supervise(watched: () => Supervised[]): void {
    this.supervisor = setInterval(() => {
      if (this.restarting) return;
      for (const s of watched()) {
        const child = s.child();
        if (!child || (child.exitCode === null && child.signalCode === null)) continue;
        this.unexpectedExits.push({
          service: s.name,
          phase: this.phase,
          at: new Date().toISOString(),
          code: child.exitCode,
          signal: child.signalCode,
        });
        this.o.log(
          `${s.name} exited on its own during ${this.phase} (code ${child.exitCode}); restarting it`,
        );
        s.forget();
        this.restarting = true;
        s.restart()
          .catch((err: unknown) => this.o.log(`restart of ${s.name} failed: ${String(err)}`))
          .finally(() => {
            this.restarting = false;
          });
        return;
      }
    }, 250);
  }

  /** Stops the supervisor once a restart it began has finished. */
  async stopSupervising(): Promise<void> {
    clearInterval(this.supervisor);
    while (this.restarting) await sleep(200);
  }

  /**
   * kill -9 of one component under load, `downMs` down, started again (waits until it answers),
   * then `recoverMs` of load. The supervisor is held off meanwhile: this exit is ours.
   * @param component its name in the report
   * @param downPhase the phase while it is down
   * @param afterPhase the phase after it is back
   * @param kill sends the SIGKILL, waits for the exit; returns the process it hit
   * @param start starts it again
   */
  async killAndRestart(
    component: string,
    downPhase: string,
    afterPhase: string,
    kill: () => Promise<string>,
    start: () => Promise<void>,
  ): Promise<void> {
    while (this.restarting) await sleep(100);
    this.restarting = true;
    try {
      this.o.beforeKill?.(component);
      this.mark(`kill -9 ${component}`);
      this.setPhase(downPhase);
      const t0 = performance.now();
      const hit = await kill();
      await sleep(this.o.downMs);
      this.mark(`start ${component}`);
      const t1 = performance.now();
      await start();
      const now = performance.now();
      this.kills.push({
        component,
        signal: 'SIGKILL',
        process: hit,
        downMs: Math.round(now - t0),
        startMs: Math.round(now - t1),
        phase: downPhase,
      });
      this.mark(`${component} up again (${hit} SIGKILLed; start took ${Math.round(now - t1)} ms)`);
    } finally {
      this.restarting = false;
    }
    await this.hold(afterPhase, this.o.recoverMs);
  }
}
