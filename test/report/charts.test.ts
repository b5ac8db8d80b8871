/**
 * The speed-up bars of the HTML report (src/report/charts.ts), read off the SVG string:
 * every bar starts or ends at the 1x line on its own side, also a ratio so close to 1x
 * that its bar is drawn at the 1 px minimum (a ratio of 0.999x once drew a 1 px bar that
 * crossed the line, which the Chromium test caught only when a measured ratio fell there).
 */
import { expect } from 'chai';
import { speedupBars } from '../../src/report/charts.js';

/** Each bar's label and its rect's x and width, as the SVG has them. */
function barRects(svg: string): Map<string, { x: number; width: number }> {
  const rects = new Map<string, { x: number; width: number }>();
  for (const m of svg.matchAll(/<g class="bar" data-label="([^"]+)"[^>]*>.*?<rect x="([\d.]+)" y="[\d.]+" width="([\d.]+)"/g))
    rects.set(m[1]!, { x: Number(m[2]), width: Number(m[3]) });
  return rects;
}

describe('HTML report: speed-up bars', () => {
  const values: Record<string, number> = { slower: 0.5, 'just slower': 0.999, 'just faster': 1.001, faster: 2 };
  const svg = speedupBars(
    Object.entries(values).map(([label, value]) => ({ label, value, colour: '#000' })),
    'speed-ups',
  );
  const rects = barRects(svg);

  it('draws a bar per ratio, every one at least 1 px wide', () => {
    expect([...rects.keys()]).to.deep.equal(Object.keys(values));
    for (const [label, r] of rects) expect(r.width, label).to.be.at.least(1);
  });

  it('starts every bar at or above 1x at the line, and ends every bar below 1x there, the 1 px ones too', () => {
    const one = rects.get('faster')!.x;
    expect(rects.get('just faster')!.x).to.be.closeTo(one, 0.01);
    for (const label of ['slower', 'just slower']) {
      const r = rects.get(label)!;
      expect(r.x + r.width, `${label} ends at 1x`).to.be.closeTo(one, 0.02);
    }
    expect(rects.get('just slower')!.width).to.equal(1);
  });
});
