import { Component } from 'preact';
import { fmtTime } from '../api';
import { createdAt, type HiveEvent } from '../live';

/** A short line of what an event says, from its data. */
function detail(e: HiveEvent): string {
  const d = e.data ?? {};
  const parts: string[] = [];
  if (typeof d.attempt === 'number') parts.push(`attempt ${d.attempt}`);
  if (typeof d.durationMs === 'number') parts.push(`${Math.round(d.durationMs)} ms`);
  if (d.error && typeof d.error === 'object') parts.push(String(d.error.code ?? d.error.message ?? ''));
  else if (typeof d.reason === 'string') parts.push(d.reason);
  if (typeof d.command === 'string') parts.push(d.command);
  // task.progress: a coding CLI's step (init, a turn, the result…) as a plain line.
  if (typeof d.summary === 'string')
    parts.push(typeof d.kind === 'string' ? `[${d.kind}] ${d.summary}` : d.summary);
  return parts.filter(Boolean).join(' · ');
}

const tone = (type: string) =>
  /completed|online/.test(type)
    ? 's-completed'
    : /failed|dead_lettered|timed_out|offline/.test(type)
      ? 's-failed'
      : /cancelled|retrying|compensating|rolled_back/.test(type)
        ? 's-cancelled'
        : '';

interface Props {
  e: HiveEvent;
  showWorkflow?: boolean;
}

/**
 * One event as a list item. data-seq and data-created (the event's creation time, ms since the epoch) let a
 * MutationObserver measure creation → render latency. An event never changes: a row renders once, so a feed
 * of 200 rows costs only its new rows per frame.
 */
export class EventRow extends Component<Props> {
  override shouldComponentUpdate(next: Props): boolean {
    return next.e !== this.props.e || next.showWorkflow !== this.props.showWorkflow;
  }

  override render() {
    return <EventLine {...this.props} />;
  }
}

function EventLine({ e, showWorkflow = true }: Props) {
  const extra = detail(e);
  return (
    <li data-seq={e.seq} data-created={createdAt(e)} data-type={e.type}>
      <span class="muted mono">{fmtTime(e.ts)}</span> <code class={tone(e.type)}>{e.type}</code>
      {showWorkflow && e.workflowId && (
        <>
          {' '}
          <a href={`#/workflows/${encodeURIComponent(e.workflowId)}`} title={e.workflowId}>
            {e.workflowId.length > 12 ? `…${e.workflowId.slice(-8)}` : e.workflowId}
          </a>
        </>
      )}
      {e.taskId && <span> {e.taskId}</span>}
      {e.agent && <span class="muted"> @{e.agent}</span>}
      {extra && <span class="muted"> · {extra}</span>}
    </li>
  );
}
