/**
 * The golden set's cases (src/verify/golden.ts writes them): a versioned, fixed list of specifications, each a
 * cell, sizes, γ, λ, masks and, from version 2, a configuration of format 1.1.
 */
import type { LossKind } from '../core/model.js';
import type { BpLambdaMode } from '../core/modes.js';

/** Bump when any golden case or the layout of the set changes. */
export const GOLDEN_VERSION = 4;
export const GOLDEN_FORMAT = 'bplambda-golden/1';
export const GOLDEN_SEED = 20240501;

export type CellSpec = { type: 'rnn'; activation: 'identity' | 'tanh' | 'sigmoid' | 'relu' } | { type: 'lstm' };

export interface GoldenSpec {
  readonly name: string;
  readonly description: string;
  readonly cell: CellSpec;
  readonly I: number;
  readonly H: number;
  readonly O: number;
  readonly T: number;
  readonly gamma: number;
  readonly lambda: number;
  /** Steps (0-based) without a target, per example; 'all-but-last' keeps only y_T. */
  readonly masked?: readonly number[] | 'all-but-last' | 'all';
  /** Examples in a batch (absent: a single case). */
  readonly batch?: number;
  /** A zero synthesiser (ĝ ≡ 0). */
  readonly zeroSynth?: boolean;
  /** Format 1.1: BP(λ)'s options (absent: the /1 configuration, full mode, β = 1, no clip). */
  readonly method?: { readonly mode: BpLambdaMode; readonly beta: number; readonly synthClip: number };
  /** Format 1.1: the loss; 'labels' writes softmax cross-entropy targets as class labels. */
  readonly loss?: LossKind | 'labels';
  /** Format 1.1: the target scale c as a multiple of 1/B ('batch': 1/B, 'bits': 1/(B·O)). */
  readonly targetScale?: 'batch' | 'bits';
  /** Format 1.1: an n-step method in place of BP(λ) (γ is the spec's; λ is not used). */
  readonly nStep?:
    | { readonly kind: 'sg'; readonly n: number; readonly align: 'start' | 'end'; readonly target: 'discounted' | 'authors'; readonly beta: number }
    | { readonly kind: 'tbptt'; readonly n: number; readonly align: 'start' | 'end' };
  /** Format 1.1 (version 4): BP(λ)'s step schedule, SGD at rate lr on Ψ and θ after every step (stepParameters). */
  readonly schedule?: { readonly lr: number };
}

/** Whether a spec needs format 1.1 (any of its configuration fields). */
export const isV11 = (spec: GoldenSpec): boolean =>
  spec.method !== undefined || spec.loss !== undefined || spec.targetScale !== undefined || spec.nStep !== undefined || spec.schedule !== undefined;

const rnn = (activation: 'identity' | 'tanh' | 'sigmoid' | 'relu'): CellSpec => ({ type: 'rnn', activation });
const lstm: CellSpec = { type: 'lstm' };

/** The golden cases of version 1 (the order and names are part of the version). */
export const GOLDEN_SPECS: readonly GoldenSpec[] = [
  { name: 'rnn-identity-g1-l1', description: 'linear RNN, γ = 1, λ = 1 (λ-targets are the exact future gradients)', cell: rnn('identity'), I: 3, H: 4, O: 2, T: 6, gamma: 1, lambda: 1 },
  { name: 'rnn-identity-g0.9-l0.5-masked', description: 'linear RNN, γ = 0.9, λ = 0.5, no targets at steps 1, 2, 4', cell: rnn('identity'), I: 3, H: 4, O: 2, T: 7, gamma: 0.9, lambda: 0.5, masked: [0, 1, 3] },
  { name: 'rnn-identity-last-target-g1-l0.8', description: 'linear RNN, only the last step has a target (as the paper’s toy task), γ = 1, λ = 0.8', cell: rnn('identity'), I: 4, H: 5, O: 2, T: 8, gamma: 1, lambda: 0.8, masked: 'all-but-last' },
  { name: 'rnn-tanh-g0.9-l0', description: 'tanh RNN, λ = 0 (one-step bootstrapping), γ = 0.9', cell: rnn('tanh'), I: 3, H: 4, O: 2, T: 6, gamma: 0.9, lambda: 0 },
  { name: 'rnn-tanh-g0.9-l1', description: 'tanh RNN, λ = 1 with discount γ = 0.9', cell: rnn('tanh'), I: 3, H: 4, O: 2, T: 6, gamma: 0.9, lambda: 1 },
  { name: 'rnn-tanh-g0.5-l0.7-masked', description: 'tanh RNN, γ = 0.5, λ = 0.7, no targets at steps 2 and 5', cell: rnn('tanh'), I: 2, H: 5, O: 3, T: 7, gamma: 0.5, lambda: 0.7, masked: [1, 4] },
  { name: 'rnn-tanh-g0-l0.6', description: 'tanh RNN, γ = 0 (targets are the immediate next-step gradients only), λ = 0.6', cell: rnn('tanh'), I: 3, H: 4, O: 2, T: 5, gamma: 0, lambda: 0.6 },
  { name: 'rnn-tanh-T2-g0.9-l0.5', description: 'tanh RNN, the shortest sequence T = 2', cell: rnn('tanh'), I: 3, H: 4, O: 2, T: 2, gamma: 0.9, lambda: 0.5 },
  { name: 'rnn-tanh-no-targets-g1-l0.5', description: 'tanh RNN, no target at any step (loss 0; the TD errors come from bootstrapping alone)', cell: rnn('tanh'), I: 3, H: 4, O: 2, T: 5, gamma: 1, lambda: 0.5, masked: 'all' },
  { name: 'rnn-tanh-zero-synth-g1-l0.5', description: 'tanh RNN, zero synthesiser (ĝ ≡ 0)', cell: rnn('tanh'), I: 3, H: 4, O: 2, T: 6, gamma: 1, lambda: 0.5, zeroSynth: true },
  { name: 'rnn-sigmoid-g0.8-l0.9', description: 'sigmoid RNN, γ = 0.8, λ = 0.9', cell: rnn('sigmoid'), I: 3, H: 4, O: 2, T: 6, gamma: 0.8, lambda: 0.9 },
  { name: 'rnn-relu-g1-l0.3', description: 'ReLU RNN, γ = 1, λ = 0.3', cell: rnn('relu'), I: 3, H: 4, O: 2, T: 6, gamma: 1, lambda: 0.3 },
  { name: 'lstm-g1-l1', description: 'LSTM (state [h; c], S = 2H), γ = 1, λ = 1', cell: lstm, I: 3, H: 3, O: 2, T: 6, gamma: 1, lambda: 1 },
  { name: 'lstm-g0.9-l0.5-masked', description: 'LSTM, γ = 0.9, λ = 0.5, no targets at steps 1 and 3', cell: lstm, I: 2, H: 3, O: 2, T: 7, gamma: 0.9, lambda: 0.5, masked: [0, 2] },
  { name: 'lstm-g0-l1', description: 'LSTM, γ = 0, λ = 1', cell: lstm, I: 3, H: 2, O: 2, T: 5, gamma: 0, lambda: 1 },
  { name: 'lstm-T2-g1-l0', description: 'LSTM, T = 2, λ = 0', cell: lstm, I: 3, H: 3, O: 2, T: 2, gamma: 1, lambda: 0 },
  { name: 'batch-rnn-tanh-g0.9-l0.7', description: 'a batch of 3 tanh-RNN sequences with different masks, γ = 0.9, λ = 0.7', cell: rnn('tanh'), I: 3, H: 4, O: 2, T: 6, gamma: 0.9, lambda: 0.7, batch: 3, masked: [1, 3] },
  { name: 'batch-lstm-g1-l0.5', description: 'a batch of 2 LSTM sequences, γ = 1, λ = 0.5', cell: lstm, I: 2, H: 2, O: 2, T: 5, gamma: 1, lambda: 0.5, batch: 2 },
  // Version 2: format 1.1 (the configurations of the library's learner).
  { name: 'lstm-cell-g1-l1', description: 'LSTM cell mode (u_t = g(s_{t−1}) ≈ dL_{≥t}/dc_t, synthesiser H×2H), γ = 1, λ = 1, β = 1', cell: lstm, I: 3, H: 3, O: 2, T: 6, gamma: 1, lambda: 1, method: { mode: 'cell', beta: 1, synthClip: Infinity } },
  { name: 'lstm-cell-g0.9-l0.5-masked', description: 'LSTM cell mode, γ = 0.9, λ = 0.5, β = 0.5, no targets at steps 1 and 3', cell: lstm, I: 2, H: 3, O: 2, T: 7, gamma: 0.9, lambda: 0.5, masked: [0, 2], method: { mode: 'cell', beta: 0.5, synthClip: Infinity } },
  { name: 'batch-lstm-cell-xent-labels-clip', description: 'the seq-MNIST configuration: a batch of 3, LSTM cell mode, γ = 0.9, λ = 1, β = 0.1, per-step clip 0.05, softmax cross-entropy on class labels at the last step, target scale 1/B', cell: lstm, I: 3, H: 3, O: 4, T: 5, gamma: 0.9, lambda: 1, batch: 3, masked: 'all-but-last', method: { mode: 'cell', beta: 0.1, synthClip: 0.05 }, loss: 'labels', targetScale: 'batch' },
  { name: 'batch-lstm-cell-bce-clip', description: 'the copy-repeat configuration: a batch of 2, LSTM cell mode, γ = 0.9, λ = 0.8, β = 1, per-step clip 0.05, per-bit BCE with logits, target scale 1/(B·O)', cell: lstm, I: 3, H: 2, O: 3, T: 6, gamma: 0.9, lambda: 0.8, batch: 2, masked: [0, 1], method: { mode: 'cell', beta: 1, synthClip: 0.05 }, loss: 'bce', targetScale: 'bits' },
  { name: 'batch-rnn-identity-clip-scale', description: 'the toy configuration: a batch of 3 linear RNN sequences, target at the last step, γ = 1, λ = 1, β = 1, per-step clip 0.05, target scale 1/B', cell: rnn('identity'), I: 4, H: 4, O: 2, T: 6, gamma: 1, lambda: 1, batch: 3, masked: 'all-but-last', method: { mode: 'full', beta: 1, synthClip: 0.05 }, targetScale: 'batch' },
  { name: 'rnn-tanh-xent-onehot-b0.3', description: 'tanh RNN, full mode, β = 0.3, softmax cross-entropy with one-hot targets, γ = 0.9, λ = 0.7', cell: rnn('tanh'), I: 3, H: 4, O: 3, T: 6, gamma: 0.9, lambda: 0.7, method: { mode: 'full', beta: 0.3, synthClip: Infinity }, loss: 'xent' },
  { name: 'lstm-full-bce', description: 'LSTM, full-state mode, per-bit BCE with logits, γ = 1, λ = 0.5', cell: lstm, I: 2, H: 2, O: 3, T: 5, gamma: 1, lambda: 0.5, loss: 'bce' },
  // Version 3: the n-step methods of format 1.1 (λ is not used by them).
  { name: 'batch-rnn-tanh-sg3-authors-end', description: 'n-step synthetic gradients as the authors’ DNI code: a batch of 3 tanh-RNN sequences, n = 3, chunks aligned to the end (a short first chunk), target "authors" (no γ, bootstrap β ĝ), β = 0.5, target scale 1/B', cell: rnn('tanh'), I: 3, H: 4, O: 2, T: 8, gamma: 0.9, lambda: 1, batch: 3, masked: [1, 3], nStep: { kind: 'sg', n: 3, align: 'end', target: 'authors', beta: 0.5 }, targetScale: 'batch' },
  { name: 'lstm-sg2-discounted', description: 'n-step synthetic gradients on an LSTM (full state), n = 2, chunks from the start, the discounted n-step target, γ = 0.9, β = 1', cell: lstm, I: 2, H: 2, O: 2, T: 6, gamma: 0.9, lambda: 1, nStep: { kind: 'sg', n: 2, align: 'start', target: 'discounted', beta: 1 } },
  { name: 'batch-lstm-tbptt3-end-xent-labels', description: 'truncated BPTT: a batch of 2 LSTM sequences, n = 3, chunks aligned to the end, softmax cross-entropy on class labels at the last step (the synthesiser is zero and not used)', cell: lstm, I: 3, H: 2, O: 3, T: 7, gamma: 1, lambda: 1, batch: 2, masked: 'all-but-last', loss: 'labels', zeroSynth: true, nStep: { kind: 'tbptt', n: 3, align: 'end' } },
  // Version 4: BP(λ)'s step schedule (parameters updated after every step, given per step as stepParameters).
  { name: 'rnn-tanh-step-sgd', description: 'the step schedule: tanh RNN, full mode, SGD at 0.5 on Ψ and θ after every step (stepParameters), γ = 0.9, λ = 0.7, β = 1', cell: rnn('tanh'), I: 3, H: 4, O: 2, T: 5, gamma: 0.9, lambda: 0.7, method: { mode: 'full', beta: 1, synthClip: Infinity }, schedule: { lr: 0.5 } },
  { name: 'batch-lstm-cell-step-sgd-clip', description: 'the step schedule in the seq-MNIST configuration: a batch of 2, LSTM cell mode, β = 0.1, per-step clip 0.05, cross-entropy on class labels at the last step, target scale 1/B, SGD at 0.5 after every step (stepParameters)', cell: lstm, I: 3, H: 3, O: 4, T: 5, gamma: 0.9, lambda: 1, batch: 2, masked: 'all-but-last', method: { mode: 'cell', beta: 0.1, synthClip: 0.05 }, loss: 'labels', targetScale: 'batch', schedule: { lr: 0.5 } },
];
