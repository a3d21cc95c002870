/**
 * How a set of computed numbers differs from its reference, in terms that point at a cause: the largest absolute
 * error, the error relative to the reference's norm (‖a − r‖ / ‖r‖: not dominated by entries whose reference is
 * near 0, unlike the element-wise relative error), and the best-fit scalar ratio k = ⟨a, r⟩ / ⟨r, r⟩ with the part
 * of the difference one scalar leaves unexplained, ‖a − k r‖ / ‖r‖. A tensor that is exactly k times its reference
 * (a missing 1/B, a bias counted twice, a clip's factor) has a residual at the level of rounding and a relative
 * error |k − 1|; zeros where the reference is not (a gradient that is never computed) are counted separately.
 */

export interface FitStats {
  /** Elements compared. */
  readonly compared: number;
  readonly maxAbsError: number;
  /** ‖a − r‖ / ‖r‖ (0 when both are 0; Infinity when only the reference is 0 or a value is not finite). */
  readonly normRelError: number;
  /** k = ⟨a, r⟩ / ⟨r, r⟩, the scalar that best maps the reference onto the values; null when r = 0 or a value is not finite. */
  readonly ratio: number | null;
  /** ‖a − k r‖ / ‖r‖: how much of the values one scalar leaves unexplained (null with the ratio). */
  readonly ratioResidual: number | null;
  /** ‖a‖ and ‖r‖ (Euclidean, over the elements). */
  readonly actualNorm: number;
  readonly referenceNorm: number;
  /** Elements that are exactly 0 where the reference is not. */
  readonly zerosWhereReferenceNot: number;
}

/** The statistics of paired values (actual, reference). */
export const fitStats = (actual: readonly number[], reference: readonly number[]): FitStats => {
  let ar = 0;
  let rr = 0;
  let aa = 0;
  let dd = 0;
  let maxAbsError = 0;
  let zeros = 0;
  let finite = true;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const r = reference[i]!;
    if (!Number.isFinite(a)) finite = false;
    const d = Math.abs(a - r);
    maxAbsError = Number.isFinite(a) ? Math.max(maxAbsError, d) : Infinity;
    ar += a * r;
    rr += r * r;
    aa += a * a;
    dd += (a - r) * (a - r);
    if (a === 0 && r !== 0) zeros++;
  }
  const referenceNorm = Math.sqrt(rr);
  const normRelError = !finite ? Infinity : dd === 0 ? 0 : rr === 0 ? Infinity : Math.sqrt(dd / rr);
  let ratio: number | null = null;
  let ratioResidual: number | null = null;
  if (finite && rr > 0) {
    ratio = ar / rr;
    // ‖a − k r‖² = ‖a‖² − k⟨a, r⟩ cancels badly when the fit is close: sum the residual directly.
    let res = 0;
    for (let i = 0; i < actual.length; i++) res += (actual[i]! - ratio * reference[i]!) ** 2;
    ratioResidual = Math.sqrt(res) / referenceNorm;
  }
  return { compared: actual.length, maxAbsError, normRelError, ratio, ratioResidual, actualNorm: Math.sqrt(aa), referenceNorm, zerosWhereReferenceNot: zeros };
};

/** Whether one scalar k explains the difference: it leaves less than 1/1000 of it (and there is a difference). */
export const explainedByRatio = (s: FitStats): s is FitStats & { ratio: number; ratioResidual: number } =>
  s.ratio !== null && s.ratioResidual !== null && s.normRelError > 0 && Number.isFinite(s.normRelError) && s.ratioResidual <= 1e-3 * s.normRelError;
