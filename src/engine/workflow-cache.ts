import { connectionGeneration } from '../store/database.js';
import { perDeps } from './deps.js';
import { FINAL_WORKFLOW_STATUSES, type WorkflowState } from './state.js';

/**
 * Active workflows as this process last committed or read them, so that a unit of work on them can skip the
 * read round trip: it decides on the cached copy, and its write script first checks, under the workflows' locks,
 * that every workflow and task row is still the version cached (the rows' `xmin`, which any write changes, in any
 * process). A row changed elsewhere fails the check, nothing of the try is kept, and the unit reruns on rows read
 * afresh. The cache is therefore never trusted, only checked: a stale copy costs a round trip, not correctness.
 */
export class WorkflowCache {
  /** Each workflow with the connection generation it was read or committed in (see connectionGeneration). */
  private readonly entries = new Map<string, { wf: WorkflowState; generation: number }>();
  /** Units to run without the cache after checks failed (another coordinator writes the same workflows). */
  private skip = 0;
  private penalty = 0;

  constructor(private readonly max = 10_000) {}

  get size(): number {
    return this.entries.size;
  }

  /**
   * Every one of these workflows, taken out of the cache (the unit owns them now and puts them back once
   * committed), or undefined when any is missing or the cache is resting after failed checks. A copy from before
   * the process last opened a database connection does not count: rows may now come from another server (a
   * failover to a standby that missed the last commits hands out the same transaction IDs again, so the same
   * xmin can name other contents). The unit checks the generation again once it holds its connection.
   */
  take(ids: readonly string[]): Map<string, WorkflowState> | undefined {
    if (ids.length === 0) return undefined;
    if (this.skip > 0) {
      this.skip--;
      return undefined;
    }
    const generation = connectionGeneration();
    for (const id of ids) if (this.entries.get(id)?.generation !== generation) return undefined;
    const taken = new Map<string, WorkflowState>();
    for (const id of ids) {
      const entry = this.entries.get(id);
      if (!entry) continue; // a duplicate ID, taken already
      taken.set(id, entry.wf);
      this.entries.delete(id);
    }
    return taken;
  }

  /**
   * A check failed: rows changed in another process. When that keeps happening (several coordinators sharing the
   * workflows) the cache rests for a growing number of units, so a failed check costs a round trip only now and
   * then instead of on nearly every unit.
   */
  stale(): void {
    this.penalty = Math.min(64, Math.max(1, this.penalty * 2));
    this.skip = this.penalty;
  }

  /** A check passed. */
  fresh(): void {
    this.penalty = 0;
  }

  /**
   * Committed (or freshly read) workflows whose rows all carry a known xmin, from a unit whose connection was
   * taken in `generation`; ended ones are dropped, and all of them when a connection was opened since.
   */
  put(workflows: Iterable<WorkflowState>, generation: number): void {
    const current = generation === connectionGeneration();
    for (const wf of workflows) {
      this.entries.delete(wf.id);
      if (!current || FINAL_WORKFLOW_STATUSES.has(wf.status) || !isVersioned(wf)) continue;
      this.entries.set(wf.id, { wf, generation });
    }
    // A Map iterates in insertion order: the least recently used go first.
    for (const id of this.entries.keys()) {
      if (this.entries.size <= this.max) break;
      this.entries.delete(id);
    }
  }

  drop(ids: Iterable<string>): void {
    for (const id of ids) this.entries.delete(id);
  }
}

function isVersioned(wf: WorkflowState): boolean {
  if (!wf.xmin) return false;
  for (const t of wf.tasks.values()) if (!t.xmin) return false;
  return true;
}

/**
 * After a unit's COMMIT, its workflows as a later read would return them: the rows it wrote carry its
 * transaction ID as xmin, and the in-memory marks of what changed are cleared.
 */
export function markCommitted(workflows: Iterable<WorkflowState>, xid: string | undefined): void {
  for (const wf of workflows) {
    if (wf.dirty || wf.origStatus === null) wf.xmin = xid;
    wf.origStatus = wf.status;
    wf.dirty = false;
    for (const t of wf.tasks.values()) {
      if (t.dirty || t.orig === null) t.xmin = xid;
      // The row's msg_id as the UPDATE left it (see workflowWrites: a new attempt clears it, whatever was marked).
      const msgId = t.resetDispatch ? null : (t.dispatchMark?.msgId ?? t.orig?.msgId ?? null);
      t.orig = { status: t.status, attempt: t.attempt, msgId };
      t.dirty = false;
      t.resetDispatch = false;
      t.dispatchMark = undefined;
    }
  }
}

/** The process's workflow cache for these deps (shared by submit, coordinator, sweeps and cancels). */
export const workflowCacheFor = perDeps(() => new WorkflowCache());
