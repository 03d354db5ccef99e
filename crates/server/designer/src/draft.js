// The draft open in the designer, kept in this tab's memory (never in storage) so the
// operations pages can replay an instance against it after the designer page is left.

let draft = null;

/** The designer calls this whenever its diagram changes. */
export function setDraft(xml, processId) {
  draft = { xml, processId, at: new Date() };
}

/** The designer's latest draft: `{xml, processId, at}`, or null before the designer opened one. */
export function currentDraft() {
  return draft;
}
