/**
 * The workflow state machine. Every transition of a workflow and its tasks is decided here, on in-memory
 * copies loaded under the workflow's row lock (see unit-of-work.ts), and written back with guarded updates.
 *
 * Workflow: pending → running → completed
 *                             ↘ failed                      (a task out of attempts, nothing to undo)
 *                             ↘ compensating → rolled_back  (compensations of completed tasks, newest first)
 *                                            ↘ rollback_failed
 *           any non-final → cancelled
 * Task:     pending → queued → running → completed
 *                      ↑          ↓ (attempt failed, attempts left: backoff, then a new attempt)
 *                      └─ pending ┘
 *           running/queued → failed (out of attempts, or dead-lettered) | cancelled
 *           pending → skipped (the workflow ended first);  completed → compensated (after its undo ran)
 *
 * Trade-off: results are applied only when they match the task's current attempt and an active status;
 * anything else (a duplicate, a late result of an old attempt, a replay) changes nothing and is noted
 * as an agent log line, so "exactly one recorded completion per attempt" holds whatever Redis redelivers.
 */
import type { ErrorBody, Payload, Usage } from '../bus/envelope.js';
import type { EngineConfig, HiveConfig } from '../core/config-file.js';
import { retryDelayMs } from './backoff.js';
import type { Effects } from './effects.js';
import type { Router } from './router.js';
import {
  ACTIVE_TASK_STATUSES,
  FINAL_WORKFLOW_STATUSES,
  type TaskState,
  type TaskStatus,
  type WorkflowState,
  type WorkflowStatus,
} from './state.js';

export const COMPENSATION_PREFIX = 'compensate:';

export class WorkflowMachine {
  constructor(
    private readonly config: HiveConfig,
    private readonly router: Router,
    private readonly fx: Effects,
  ) {}

  private get engine(): EngineConfig {
    return this.config.engine;
  }

  private setTask(task: TaskState, status: TaskStatus): void {
    task.status = status;
    task.dirty = true;
  }

  private setWorkflow(wf: WorkflowState, status: WorkflowStatus): void {
    wf.status = status;
    wf.dirty = true;
    if (FINAL_WORKFLOW_STATUSES.has(status)) wf.finishedAt = this.fx.now;
  }

  private taskEvent(
    type: Parameters<Effects['event']>[0]['type'],
    task: TaskState,
    data: Record<string, unknown>,
  ): void {
    this.fx.event({
      type,
      correlationId: task.correlationId,
      workflowId: task.workflowId,
      taskId: task.id,
      agent: task.agent ?? undefined,
      data,
    });
  }

  private workflowEvent(
    type: Parameters<Effects['event']>[0]['type'],
    wf: WorkflowState,
    data: Record<string, unknown> = {},
  ): void {
    this.fx.event({ type, correlationId: wf.correlationId, workflowId: wf.id, data });
  }

  /** A newly submitted workflow starts: its ready tasks are queued. */
  start(wf: WorkflowState): void {
    this.setWorkflow(wf, 'running');
    wf.startedAt = this.fx.now;
    this.workflowEvent('workflow.started', wf);
    this.advance(wf);
  }

  /** Queues every task whose dependencies are done, and ends the workflow when nothing is left. */
  advance(wf: WorkflowState): void {
    if (wf.status !== 'running' && wf.status !== 'compensating') return;
    const compensating = wf.status === 'compensating';
    const phase = [...wf.tasks.values()].filter((t) => (t.compensationOf !== null) === compensating);
    const ready = phase.filter(
      (t) =>
        t.status === 'pending' &&
        t.notBefore === null &&
        t.dependsOn.every((d) => wf.tasks.get(d)?.status === 'completed'),
    );
    if (!compensating && ready.length > 0 && this.budgetSpent(wf)) {
      // The budget stops further dispatch; undoing what was done (compensation) is still allowed.
      this.failWorkflow(wf, {
        code: 'HIVE_ERR_RUNNER_BUDGET',
        message: `workflow budget of $${wf.budgetUsd} spent ($${this.spentUsd(wf).toFixed(4)})`,
      });
      return;
    }
    for (const task of ready) {
      this.queue(wf, task);
    }
    if (phase.every((t) => t.status === 'completed')) {
      if (compensating) {
        for (const t of wf.tasks.values()) {
          if (t.compensationOf === null && t.status === 'completed' && t.compensate)
            this.setTask(t, 'compensated');
        }
        this.setWorkflow(wf, 'rolled_back');
        this.workflowEvent('workflow.rolled_back', wf, { error: wf.error });
      } else {
        this.setWorkflow(wf, 'completed');
        this.workflowEvent('workflow.completed', wf, { durationMs: this.durationMs(wf) });
      }
    }
  }

  private durationMs(wf: WorkflowState): number | null {
    return wf.startedAt ? this.fx.now.getTime() - wf.startedAt.getTime() : null;
  }

  /** A new attempt of `task` goes to an agent (routed by capability when the spec named none). */
  private queue(wf: WorkflowState, task: TaskState): void {
    if (task.requestedAgent) {
      task.agent = task.requestedAgent;
    } else {
      const decision = this.router.route(task.candidates);
      task.agent = decision.agent;
      this.taskEvent('task.routed', task, {
        agent: decision.agent,
        reason: decision.reason,
        loads: decision.loads,
      });
    }
    task.attempt += 1;
    task.notBefore = null;
    task.deadlineAt = null;
    task.instance = null;
    task.startedAt = null;
    task.finishedAt = null;
    task.queuedAt = this.fx.now;
    task.resetDispatch = true;
    this.setTask(task, 'queued');
    this.taskEvent('task.queued', task, { attempt: task.attempt, agent: task.agent });
    this.fx.dispatches.push({ workflow: wf, task });
  }

  private stale(task: TaskState, what: string, attempt: number, instance: string | null): void {
    this.fx.note(
      task,
      'warn',
      `ignored ${what} of attempt ${attempt}: task is ${task.status} at attempt ${task.attempt}`,
      instance,
    );
  }

  started(task: TaskState, attempt: number, p: Payload<'started'>, ts: number): void {
    if (task.attempt !== attempt || !ACTIVE_TASK_STATUSES.has(task.status)) {
      // The attempt is over, yet an instance reports running it. Either its result was applied first (batches
      // run concurrently; the run is done and the start was recorded then), or this is a run the earlier cancel
      // could not reach: an entry cancelled while it still waited in the stream (no instance held it when the
      // cancel was published), an entry taken over from an instance that died after the cancel, or an older
      // attempt. Left alone, such a process runs until its timeout and its result is ignored: stop it.
      this.fx.cancels.push({
        agent: p.agent,
        workflowId: task.workflowId,
        taskId: task.id,
        attempt,
        reason: 'cancelled',
      });
      if (task.attempt !== attempt || task.startedAt === null) this.stale(task, 'start', attempt, p.instance);
      return;
    }
    if (task.status === 'running') {
      if (task.instance !== p.instance) {
        this.fx.note(
          task,
          'warn',
          `attempt ${attempt} taken over by instance ${p.instance} (was ${task.instance})`,
          p.instance,
        );
        task.instance = p.instance;
        task.dirty = true;
      }
      return;
    }
    task.instance = p.instance;
    task.startedAt = new Date(ts);
    task.deadlineAt = new Date(this.fx.now.getTime() + task.timeoutMs);
    this.setTask(task, 'running');
    const queuedToStartedMs = task.queuedAt ? ts - task.queuedAt.getTime() : null;
    this.taskEvent('task.started', task, { attempt, instance: p.instance, queuedToStartedMs });
  }

  result(wf: WorkflowState, task: TaskState, attempt: number, p: Payload<'result'>): void {
    if (task.attempt !== attempt || !ACTIVE_TASK_STATUSES.has(task.status)) {
      this.stale(task, 'result', attempt, p.instance);
      return;
    }
    if (task.status === 'queued') {
      // The start message is in a batch not applied yet, or was folded into the result by the agent (a short
      // attempt): the result proves the start and carries its time.
      // An agent's clock or a hostile duration must not put the start before the queueing, in the future or
      // out of a Date's range.
      const now = this.fx.now.getTime();
      const earliest = Math.min(task.queuedAt?.getTime() ?? 0, now);
      const reported = p.startedAt ?? now - p.durationMs;
      this.started(
        task,
        attempt,
        { instance: p.instance, agent: p.agent },
        Number.isFinite(reported) ? Math.min(Math.max(reported, earliest), now) : now,
      );
    }
    task.instance = p.instance;
    if (p.usage) task.usage = p.usage as Usage;
    if (p.ok) {
      task.output = p.output ?? null;
      task.error = null;
      task.finishedAt = this.fx.now;
      task.completedOrder = 1 + Math.max(0, ...[...wf.tasks.values()].map((t) => t.completedOrder ?? 0));
      this.setTask(task, 'completed');
      const data: Record<string, unknown> = { attempt, instance: p.instance, durationMs: p.durationMs };
      if (p.usage) data.usage = p.usage;
      this.taskEvent('task.completed', task, data);
      this.advance(wf);
      return;
    }
    const error = p.error ?? { code: 'HIVE_ERR_TASK_FAILED', message: 'task failed' };
    if (error.code === 'HIVE_ERR_TASK_TIMEOUT')
      this.taskEvent('task.timed_out', task, { attempt, timeoutMs: task.timeoutMs });
    this.failAttempt(wf, task, error, p.retryable !== false, p.durationMs);
  }

  /** The agent gave up on the message after too many deliveries: the task fails without further retries. */
  deadLettered(wf: WorkflowState, task: TaskState, attempt: number, p: Payload<'dead'>): void {
    if (task.attempt !== attempt || !ACTIVE_TASK_STATUSES.has(task.status)) {
      this.stale(task, 'dead letter', attempt, p.instance);
      return;
    }
    task.error = { code: 'HIVE_ERR_DEAD_LETTERED', message: p.reason, details: { deliveries: p.deliveries } };
    task.finishedAt = this.fx.now;
    this.setTask(task, 'failed');
    this.taskEvent('task.dead_lettered', task, { attempt, reason: p.reason, deliveries: p.deliveries });
    this.afterFinalFailure(wf, task);
  }

  /** The coordinator's deadline passed without a result (the agent may be hung or gone). */
  timedOut(wf: WorkflowState, task: TaskState): void {
    if (task.status !== 'running') return;
    this.taskEvent('task.timed_out', task, {
      attempt: task.attempt,
      timeoutMs: task.timeoutMs,
      by: 'coordinator',
    });
    this.signal(task, 'timeout');
    this.failAttempt(
      wf,
      task,
      { code: 'HIVE_ERR_TASK_TIMEOUT', message: `no result within ${task.timeoutMs} ms` },
      true,
      null,
    );
  }

  private failAttempt(
    wf: WorkflowState,
    task: TaskState,
    error: ErrorBody,
    retryable: boolean,
    durationMs: number | null,
  ): void {
    task.error = error;
    task.finishedAt = this.fx.now;
    const active = wf.status === 'running' || wf.status === 'compensating';
    if (retryable && active && task.attempt < task.maxAttempts) {
      const delayMs = retryDelayMs(task.attempt, this.engine.retryBaseMs, this.engine.retryMaxMs);
      task.notBefore = new Date(this.fx.now.getTime() + delayMs);
      task.deadlineAt = null;
      this.setTask(task, 'pending');
      this.taskEvent('task.retrying', task, {
        attempt: task.attempt,
        nextAttempt: task.attempt + 1,
        delayMs,
        error,
        durationMs,
      });
      return;
    }
    this.setTask(task, 'failed');
    this.taskEvent('task.failed', task, { attempt: task.attempt, error, durationMs });
    this.afterFinalFailure(wf, task);
  }

  /** A retry's backoff has passed: the next attempt is queued. */
  retryDue(wf: WorkflowState, task: TaskState): void {
    if (task.status !== 'pending' || task.notBefore === null || task.notBefore > this.fx.now) return;
    if (wf.status !== 'running' && wf.status !== 'compensating') return;
    task.notBefore = null;
    this.queue(wf, task);
  }

  private signal(task: TaskState, reason: 'cancelled' | 'timeout'): void {
    if (task.agent && ACTIVE_TASK_STATUSES.has(task.status)) {
      this.fx.cancels.push({
        agent: task.agent,
        workflowId: task.workflowId,
        taskId: task.id,
        attempt: task.attempt,
        reason,
      });
    }
  }

  /** Stops every other task of the phase: running ones are cancelled and signalled, waiting ones skipped. */
  private stopOthers(wf: WorkflowState, except: TaskState | null, pendingTo: 'skipped' | 'cancelled'): void {
    for (const t of wf.tasks.values()) {
      if (t === except) continue;
      if (ACTIVE_TASK_STATUSES.has(t.status)) {
        this.signal(t, 'cancelled');
        t.finishedAt = this.fx.now;
        this.setTask(t, 'cancelled');
        this.taskEvent('task.cancelled', t, { attempt: t.attempt });
      } else if (t.status === 'pending') {
        t.notBefore = null;
        this.setTask(t, pendingTo);
        if (pendingTo === 'cancelled') this.taskEvent('task.cancelled', t, { attempt: t.attempt });
      }
    }
  }

  spentUsd(wf: WorkflowState): number {
    let sum = 0;
    for (const t of wf.tasks.values()) sum += t.usage?.costUsd ?? 0;
    return sum;
  }

  private budgetSpent(wf: WorkflowState): boolean {
    return wf.budgetUsd !== null && this.spentUsd(wf) >= wf.budgetUsd;
  }

  private afterFinalFailure(wf: WorkflowState, task: TaskState): void {
    const error = {
      code: task.error?.code ?? 'HIVE_ERR_TASK_FAILED',
      message: task.error?.message ?? 'task failed',
      taskId: task.id,
    };
    if (task.compensationOf !== null) {
      this.stopOthers(wf, task, 'skipped');
      this.setWorkflow(wf, 'rollback_failed');
      this.workflowEvent('workflow.rollback_failed', wf, { error, originalError: wf.error });
      return;
    }
    if (wf.status !== 'running') return;
    this.failWorkflow(wf, error, task);
  }

  /** Ends the running phase: others stop, and completed tasks are compensated (newest first) if they can be. */
  private failWorkflow(
    wf: WorkflowState,
    error: { code: string; message: string; taskId?: string },
    cause: TaskState | null = null,
  ): void {
    wf.error = error;
    wf.dirty = true;
    this.stopOthers(wf, cause, 'skipped');
    const toUndo = [...wf.tasks.values()]
      .filter((t) => t.status === 'completed' && t.compensate && t.compensationOf === null)
      .sort((a, b) => (b.completedOrder ?? 0) - (a.completedOrder ?? 0));
    if (toUndo.length === 0) {
      this.setWorkflow(wf, 'failed');
      this.workflowEvent('workflow.failed', wf, { error });
      return;
    }
    // Compensations run one after another, newest completion first: each depends on the previous one.
    let previous: string | null = null;
    let position = Math.max(...[...wf.tasks.values()].map((t) => t.position)) + 1;
    for (const original of toUndo) {
      const c = original.compensate!;
      const agent = c.agent ?? null;
      const candidates = agent ? [agent] : this.capable(c.type);
      const id = `${COMPENSATION_PREFIX}${original.id}`;
      const comp: TaskState = {
        workflowId: wf.id,
        id,
        position: position++,
        correlationId: wf.correlationId,
        type: c.type,
        agent: null,
        requestedAgent: agent,
        candidates,
        status: 'pending',
        attempt: 0,
        maxAttempts: original.maxAttempts,
        timeoutMs: original.timeoutMs,
        dependsOn: previous ? [previous] : [],
        input: c.input ?? { compensates: original.id, output: original.output ?? null },
        output: null,
        error: null,
        usage: null,
        compensate: null,
        compensationOf: original.id,
        completedOrder: null,
        instance: null,
        notBefore: null,
        deadlineAt: null,
        queuedAt: null,
        startedAt: null,
        finishedAt: null,
        orig: null,
        dirty: true,
        resetDispatch: false,
      };
      wf.tasks.set(id, comp);
      previous = id;
    }
    this.setWorkflow(wf, 'compensating');
    this.workflowEvent('workflow.compensating', wf, { error, compensations: toUndo.map((t) => t.id) });
    this.advance(wf);
  }

  private capable(type: string): string[] {
    return Object.entries(this.config.agents)
      .filter(([, a]) => a.capabilities.includes(type))
      .map(([n]) => n)
      .sort();
  }

  cancel(wf: WorkflowState, reason = 'cancelled by request'): boolean {
    if (FINAL_WORKFLOW_STATUSES.has(wf.status)) return false;
    this.stopOthers(wf, null, 'cancelled');
    this.setWorkflow(wf, 'cancelled');
    this.workflowEvent('workflow.cancelled', wf, { reason });
    return true;
  }
}
