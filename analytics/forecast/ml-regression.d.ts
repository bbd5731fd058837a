// ml-regression ships no type declarations; these cover the parts flowcast uses.
declare module 'ml-regression' {
  export class MultivariateLinearRegression {
    constructor(x: number[][], y: number[][], options?: { intercept?: boolean; statistics?: boolean });
    readonly weights: number[][];
    predict(x: number[]): number[];
  }
  export class TheilSenRegression {
    constructor(x: number[], y: number[]);
    readonly slope: number;
    readonly intercept: number;
    predict(x: number): number;
  }
}
