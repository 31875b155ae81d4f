/**
 * Branch names for task worktrees: `<prefix>/<workflow id>/<task id>`. Workflow and task ids come from specs,
 * so each part is reduced to what `git check-ref-format` accepts (no `..`, `~^:?*[\`, spaces, leading dots
 * or a `.lock` ending).
 */
export function refPart(text: string): string {
  const s = text
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/\.{2,}/g, '.')
    .replace(/^[.-]+/, '')
    .replace(/(\.lock|\.)+$/i, '');
  return s || '_';
}

export function taskBranch(prefix: string, workflowId: string, taskId: string): string {
  return `${prefix}/${refPart(workflowId)}/${refPart(taskId)}`;
}

export function workflowBranchPrefix(prefix: string, workflowId: string): string {
  return `${prefix}/${refPart(workflowId)}/`;
}
