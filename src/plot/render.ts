/**
 * Headless rendering: Vega-Lite → Vega → SVG (vega's 'none' renderer, no canvas needed) → PNG (resvg).
 */
import { Resvg } from '@resvg/resvg-js';
import { View, parse } from 'vega';
import { type TopLevelSpec, compile } from 'vega-lite';

export const renderSvg = async (spec: TopLevelSpec): Promise<string> => {
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
};

/** PNG of an SVG at `scale` times its size, on white. */
export const svgToPng = (svg: string, scale = 2): Buffer =>
  new Resvg(svg, {
    background: 'white',
    fitTo: { mode: 'zoom', value: scale },
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
  })
    .render()
    .asPng();
