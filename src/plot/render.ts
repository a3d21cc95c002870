/**
 * Headless rendering: Vega-Lite → Vega → SVG (vega's 'none' renderer, no canvas needed) → PNG (resvg). vega,
 * vega-lite and @resvg/resvg-js are optional peer dependencies, loaded on first use; without them plotting throws
 * MissingPackageError with the install command.
 */
import type { TopLevelSpec } from 'vega-lite';
import { isNotInstalled, missingPackages } from '../io/optional.js';

const PLOT_PACKAGES = ['vega', 'vega-lite', '@resvg/resvg-js'] as const;

interface Plotting {
  readonly vega: typeof import('vega');
  readonly vegaLite: typeof import('vega-lite');
  readonly resvg: typeof import('@resvg/resvg-js');
}
let plotting: Promise<Plotting> | undefined;

/** The plotting packages, loaded once; MissingPackageError naming all three when one is not installed. */
export const loadPlotting = (): Promise<Plotting> =>
  (plotting ??= Promise.all([import('vega'), import('vega-lite'), import('@resvg/resvg-js')]).then(
    ([vega, vegaLite, resvg]) => ({ vega, vegaLite, resvg }),
    (e: unknown) => {
      plotting = undefined;
      throw isNotInstalled(e, PLOT_PACKAGES) ? missingPackages('plotting', PLOT_PACKAGES) : e;
    },
  ));

export const renderSvg = async (spec: TopLevelSpec): Promise<string> => {
  const { vega, vegaLite } = await loadPlotting();
  const view = new vega.View(vega.parse(vegaLite.compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
};

/** PNG of an SVG at `scale` times its size, on white. */
export const svgToPng = async (svg: string, scale = 2): Promise<Buffer> => {
  const { resvg } = await loadPlotting();
  return new resvg.Resvg(svg, {
    background: 'white',
    fitTo: { mode: 'zoom', value: scale },
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
  })
    .render()
    .asPng();
};
