import { VERDICTS } from '../figures.js';

export function Verdict({ verdict }: { verdict: string | null | undefined }) {
  const v = VERDICTS[verdict ?? ''] ?? { sign: '', text: verdict ?? '—', tone: 'neutral' };
  return (
    <span class={`verdict ${v.tone}`} data-verdict={verdict ?? ''}>
      <span aria-hidden="true">{v.sign}</span> {v.text}
    </span>
  );
}
