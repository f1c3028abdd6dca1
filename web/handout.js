// The protocol as a printable handout.

import { api, el } from './api.js';

export async function renderHandout(root, id) {
  const protocols = await api('/api/protocols');
  const pid = id || (protocols[0] && protocols[0].id);
  root.replaceChildren();
  if (!pid) {
    root.append(el('h1', { tabindex: '-1' }, 'Handout'), el('p', {}, 'No protocols.'));
    return;
  }
  // `warnings`: where this protocol weakens the handout's safety rules (the server's lint).
  const { protocol: p, warnings = [] } = await api(`/api/protocols/${encodeURIComponent(pid)}`);
  const list = (items) => el('ul', {}, items.map((t) => el('li', {}, t)));
  const m = p.movement;
  const rules = p.stop_rules.map((r) => r.message);
  root.append(
    el('article', { class: 'handout' },
      el('h1', { tabindex: '-1' }, p.title),
      el('p', { class: 'credit' }, p.credit.text),
      el('p', {}, p.summary),
      warnings.length ? el('section', { class: 'handout-warnings', role: 'note', 'aria-labelledby': 'handout-warnings-title' },
        el('h2', { id: 'handout-warnings-title' }, 'Weaker than the handout'),
        el('p', {}, 'This protocol loosens the safety rules of the handout it adapts:'),
        list(warnings.map((w) => `${w.message}. To follow the handout: ${w.hint}.`))) : null,
      el('h2', {}, 'Reasons to consider it'),
      list(p.indications.map((i) => i.text)),
      el('h2', {}, 'What you can use'),
      list(p.instruments.map((i) => (i.note ? `${i.name}: ${i.note}` : i.name))),
      el('h2', {}, 'Before you start'),
      el('p', {}, p.screening.injury_rule.message),
      list(p.screening.questions.map((q) => q.text)),
      el('h2', {}, 'Getting into position'),
      el('ol', {}, p.setup.map((s) => el('li', {}, s.text))),
      el('h2', {}, 'The movement'),
      el('p', {}, m.text),
      el('p', {}, `Reps: ${m.reps.min} to ${m.reps.max}. About ${m.tempo.default_seconds} seconds each way.`),
      el('p', {}, m.breathing.text),
      el('h2', {}, 'Good to know'),
      list(p.notes.map((n) => n.text)),
      el('h2', {}, 'Stop at once when'),
      list(rules),
      p.cautions.length ? el('h2', {}, 'Cautions') : null,
      p.cautions.length ? list(p.cautions.map((c) => `${c.text} (${c.source})`)) : null,
    ),
    el('div', { class: 'row no-print' },
      el('button', { class: 'big calm', type: 'button', onclick: () => window.print() }, 'Print'),
      el('a', { class: 'big calm', href: `/api/protocols/${encodeURIComponent(pid)}/handout` }, 'Handout as a page')),
  );
  if (protocols.length > 1) {
    root.append(el('nav', { class: 'no-print', 'aria-label': 'Other handouts' },
      list(protocols.map((x) => el('a', { href: `#/handout/${encodeURIComponent(x.id)}` }, x.title)))));
  }
}
