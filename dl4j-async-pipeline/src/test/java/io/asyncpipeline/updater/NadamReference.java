package io.asyncpipeline.updater;

/**
 * An independent, plain-Java double-precision NAdam written from method.md §4 (PyTorch ≥ 2.0 semantics),
 * used only to check {@link DiscountedNadamUpdater}. Returns the parameter step (what DL4J subtracts).
 */
final class NadamReference {
    private final double lr;
    private final double beta1;
    private final double beta2;
    private final double eps;
    private final double psi;
    final double[] m;
    final double[] v;
    private double muProduct = 1.0;
    private int step;

    NadamReference(int n, double lr, double beta1, double beta2, double eps, double psi) {
        this.lr = lr;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.psi = psi;
        this.m = new double[n];
        this.v = new double[n];
    }

    double[] step(double[] grad) {
        step++;
        double mu = beta1 * (1 - 0.5 * Math.pow(0.96, step * psi));
        double muNext = beta1 * (1 - 0.5 * Math.pow(0.96, (step + 1) * psi));
        muProduct *= mu;
        double biasCorrection2 = 1 - Math.pow(beta2, step);
        double[] out = new double[grad.length];
        for (int i = 0; i < grad.length; i++) {
            m[i] = beta1 * m[i] + (1 - beta1) * grad[i];
            v[i] = beta2 * v[i] + (1 - beta2) * grad[i] * grad[i];
            double denom = Math.sqrt(v[i] / biasCorrection2) + eps;
            out[i] = lr * (1 - mu) / (1 - muProduct) * grad[i] / denom
                    + lr * muNext / (1 - muProduct * muNext) * m[i] / denom;
        }
        return out;
    }
}
