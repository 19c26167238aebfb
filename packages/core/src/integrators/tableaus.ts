/**
 * Butcher tableaus of the Runge–Kutta family (explicit, diagonally implicit and embedded pairs).
 *
 * A stage i evaluates kᵢ = f(x + h·Σⱼ aᵢⱼ kⱼ, t + cᵢh); the step is x + h·Σᵢ bᵢkᵢ. Embedded pairs carry
 * `bErr = b − b̂` so the local error estimate is h·Σᵢ bErrᵢ kᵢ. A row of `a` with i + 1 entries (its last the
 * diagonal aᵢᵢ ≠ 0) makes stage i implicit (DIRK), solved by fixed-point (Picard) iteration.
 * @module
 */

/** A Butcher tableau. */
export interface ButcherTableau {
  /** Nodes cᵢ, one per stage. */
  readonly c: readonly number[];
  /** Rows of the stage matrix: row i has i entries (explicit) or i + 1 (diagonally implicit). */
  readonly a: readonly (readonly number[])[];
  /** Weights of the solution. */
  readonly b: readonly number[];
  /** `b − b̂` of an embedded pair (error estimate weights), when the method is adaptive. */
  readonly bErr?: readonly number[];
  /** Order of the solution. */
  readonly order: number;
  /** First-same-as-last: the last stage is f at the new point (reused as the next step's first stage). */
  readonly fsal?: boolean;
}

/** Forward Euler: x + h·f(x, t). Order 1. */
export const EULER_TABLEAU: ButcherTableau = { c: [0], a: [[]], b: [1], order: 1 };

/** Backward Euler: k = f(x + h·k, t + h) (implicit). Order 1. */
export const BACKWARD_EULER_TABLEAU: ButcherTableau = { c: [1], a: [[1]], b: [1], order: 1 };

/** Explicit midpoint: k₂ = f(x + ½h·k₁, t + ½h); x + h·k₂. Order 2. */
export const MIDPOINT_TABLEAU: ButcherTableau = { c: [0, 0.5], a: [[], [0.5]], b: [0, 1], order: 2 };

/** Heun (explicit trapezoid): x + ½h(k₁ + k₂), k₂ = f(x + h·k₁, t + h). Order 2. */
export const HEUN_TABLEAU: ButcherTableau = { c: [0, 1], a: [[], [1]], b: [0.5, 0.5], order: 2 };

/** Classic fourth-order Runge–Kutta, b = (1/6, 1/3, 1/3, 1/6). */
export const RK4_TABLEAU: ButcherTableau = {
  c: [0, 0.5, 0.5, 1],
  a: [[], [0.5], [0, 0.5], [0, 0, 1]],
  b: [1 / 6, 1 / 3, 1 / 3, 1 / 6],
  order: 4,
};

/** Kutta's 3/8 rule, b = (1/8, 3/8, 3/8, 1/8). Order 4. */
export const RK38_TABLEAU: ButcherTableau = {
  c: [0, 1 / 3, 2 / 3, 1],
  a: [[], [1 / 3], [-1 / 3, 1], [1, -1, 1]],
  b: [1 / 8, 3 / 8, 3 / 8, 1 / 8],
  order: 4,
};

/** Heun with Euler embedded (b̂ = (1, 0)): order 2, error of order 1. */
export const ADAPTIVE_HEUN_TABLEAU: ButcherTableau = {
  c: [0, 1],
  a: [[], [1]],
  b: [0.5, 0.5],
  bErr: [0.5 - 1, 0.5],
  order: 2,
};

/** Bogacki–Shampine 3(2) (1989), FSAL: 3 new evaluations per step. */
export const BOSH3_TABLEAU: ButcherTableau = {
  c: [0, 0.5, 0.75, 1],
  a: [[], [0.5], [0, 0.75], [2 / 9, 1 / 3, 4 / 9]],
  b: [2 / 9, 1 / 3, 4 / 9, 0],
  bErr: [2 / 9 - 7 / 24, 1 / 3 - 1 / 4, 4 / 9 - 1 / 3, -1 / 8],
  order: 3,
  fsal: true,
};

/** Dormand–Prince 5(4) (1980), FSAL: 6 new evaluations per step. */
export const DOPRI5_TABLEAU: ButcherTableau = {
  c: [0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1, 1],
  a: [
    [],
    [1 / 5],
    [3 / 40, 9 / 40],
    [44 / 45, -56 / 15, 32 / 9],
    [19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729],
    [9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656],
    [35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84],
  ],
  b: [35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84, 0],
  bErr: [
    35 / 384 - 5179 / 57600,
    0,
    500 / 1113 - 7571 / 16695,
    125 / 192 - 393 / 640,
    -2187 / 6784 + 92097 / 339200,
    11 / 84 - 187 / 2100,
    -1 / 40,
  ],
  order: 5,
  fsal: true,
};

const D8_B = [
  14005451 / 335480064,
  0,
  0,
  0,
  0,
  -59238493 / 1068277825,
  181606767 / 758867731,
  561292985 / 797845732,
  -1041891430 / 1371343529,
  760417239 / 1151165299,
  118820643 / 751138087,
  -528747749 / 2220607170,
  1 / 4,
];
const D8_BHAT = [
  13451932 / 455176623,
  0,
  0,
  0,
  0,
  -808719846 / 976000145,
  1757004468 / 5645159321,
  656045339 / 265891186,
  -3867574721 / 1518517206,
  465885868 / 322736535,
  53011238 / 667516719,
  2 / 45,
  0,
];

/**
 * Dormand–Prince 8(7), Prince & Dormand (1981) "High order embedded Runge–Kutta formulae", RK8(7)13M, with the
 * rational coefficients of the paper (as in torchdiffeq's `dopri8`). 13 stages plus a FSAL stage: 13 new
 * evaluations per step; error of order 7.
 */
export const DOPRI8_TABLEAU: ButcherTableau = {
  c: [
    0,
    1 / 18,
    1 / 12,
    1 / 8,
    5 / 16,
    3 / 8,
    59 / 400,
    93 / 200,
    5490023248 / 9719169821,
    13 / 20,
    1201146811 / 1299019798,
    1,
    1,
    1,
  ],
  a: [
    [],
    [1 / 18],
    [1 / 48, 1 / 16],
    [1 / 32, 0, 3 / 32],
    [5 / 16, 0, -75 / 64, 75 / 64],
    [3 / 80, 0, 0, 3 / 16, 3 / 20],
    [29443841 / 614563906, 0, 0, 77736538 / 692538347, -28693883 / 1125000000, 23124283 / 1800000000],
    [
      16016141 / 946692911,
      0,
      0,
      61564180 / 158732637,
      22789713 / 633445777,
      545815736 / 2771057229,
      -180193667 / 1043307555,
    ],
    [
      39632708 / 573591083,
      0,
      0,
      -433636366 / 683701615,
      -421739975 / 2616292301,
      100302831 / 723423059,
      790204164 / 839813087,
      800635310 / 3783071287,
    ],
    [
      246121993 / 1340847787,
      0,
      0,
      -37695042795 / 15268766246,
      -309121744 / 1061227803,
      -12992083 / 490766935,
      6005943493 / 2108947869,
      393006217 / 1396673457,
      123872331 / 1001029789,
    ],
    [
      -1028468189 / 846180014,
      0,
      0,
      8478235783 / 508512852,
      1311729495 / 1432422823,
      -10304129995 / 1701304382,
      -48777925059 / 3047939560,
      15336726248 / 1032824649,
      -45442868181 / 3398467696,
      3065993473 / 597172653,
    ],
    [
      185892177 / 718116043,
      0,
      0,
      -3185094517 / 667107341,
      -477755414 / 1098053517,
      -703635378 / 230739211,
      5731566787 / 1027545527,
      5232866602 / 850066563,
      -4093664535 / 808688257,
      3962137247 / 1805957418,
      65686358 / 487910083,
    ],
    [
      403863854 / 491063109,
      0,
      0,
      -5068492393 / 434740067,
      -411421997 / 543043805,
      652783627 / 914296604,
      11173962825 / 925320556,
      -13158990841 / 6184727034,
      3936647629 / 1978049680,
      -160528059 / 685178525,
      248638103 / 1413531060,
      0,
    ],
    D8_B,
  ],
  b: [...D8_B, 0],
  bErr: [...D8_B.map((v, i) => v - D8_BHAT[i]!), 0],
  order: 8,
  fsal: true,
};
