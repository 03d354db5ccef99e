/* Baseline for `idflow bench srp`: the server's SRP-6a exponentiations done with the system
 * OpenSSL's BN_mod_exp, so the Rust implementation can be compared against it on one machine.
 *
 * Per authentication the server computes, in the 2048-bit group of RFC 5054 with 256-bit exponents:
 *   start:    g^b mod N                 (B = k*v + g^b)
 *   complete: v^u mod N, then (A * v^u)^b mod N
 * A renewal does the same three. Timing is CPU time of this process (one core).
 *
 * Usage: bench-openssl-modexp [iterations]   (default 2000)
 */
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/opensslv.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static const char *N_HEX =
    "AC6BDB41324A9A9BF166DE5E1389582FAF72B6651987EE07FC3192943DB56050"
    "A37329CBB4A099ED8193E0757767A13DD52312AB4B03310DCD7F48A9DA04FD50"
    "E8083969EDB767B0CF6095179A163AB3661A05FBD5FAAAE82918A9962F0B93B8"
    "55F97993EC975EEAA80D740ADBF4FF747359D041D5C33EA71D281E446B14773B"
    "CA97B43A23FB801676BD207A436C6481F1D2B9078717461A5B9D32E688F87748"
    "544523B524B0D57D5EA77A2775D2ECFA032CFBDBF52FB3786160279004E57AE6"
    "AF874E7303CE53299CCC041C7BC308D82A5698F3A8D0C38271AE35F8E9DBFBB6"
    "94B5C803D89F7AE435DE236D525F54759B65E372FCD68EF20FA7111F9E4AFF73";

static double cpu_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void check(int ok, const char *what) {
    if (!ok) {
        fprintf(stderr, "OpenSSL call failed: %s\n", what);
        exit(1);
    }
}

int main(int argc, char **argv) {
    long iterations = argc > 1 ? strtol(argv[1], NULL, 10) : 2000;
    if (iterations <= 0) {
        fprintf(stderr, "iterations must be a positive number\n");
        return 2;
    }
    BN_CTX *ctx = BN_CTX_new();
    BIGNUM *n = NULL, *g = BN_new(), *b = BN_new(), *u = BN_new(), *v = BN_new(), *a_pub = BN_new();
    BIGNUM *gb = BN_new(), *vu = BN_new(), *base = BN_new(), *s = BN_new();
    check(ctx && g && b && u && v && a_pub && gb && vu && base && s, "allocation");
    check(BN_hex2bn(&n, N_HEX) > 0, "BN_hex2bn(N)");
    check(BN_set_word(g, 2), "BN_set_word(g)");
    /* v and A: uniformly random below N, like a verifier and a client public value. */
    check(BN_rand_range(v, n), "BN_rand_range(v)");
    check(BN_rand_range(a_pub, n), "BN_rand_range(A)");

    double t_gb = 0, t_vu = 0, t_s = 0;
    double t_gb_mont = 0, t_vu_mont = 0, t_s_mont = 0;
    BN_MONT_CTX *mont = BN_MONT_CTX_new();
    check(mont && BN_MONT_CTX_set(mont, n, ctx), "BN_MONT_CTX_set");

    for (long i = 0; i < iterations; i++) {
        /* Fresh 256-bit ephemeral b and 256-bit u (a SHA-256 value) each round. */
        check(BN_rand(b, 256, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY), "BN_rand(b)");
        check(BN_rand(u, 256, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY), "BN_rand(u)");

        /* As an SRP implementation calls it: BN_mod_exp, nothing cached. */
        double t0 = cpu_seconds();
        check(BN_mod_exp(gb, g, b, n, ctx), "BN_mod_exp(g^b)");
        double t1 = cpu_seconds();
        check(BN_mod_exp(vu, v, u, n, ctx), "BN_mod_exp(v^u)");
        double t2 = cpu_seconds();
        check(BN_mod_mul(base, a_pub, vu, n, ctx), "BN_mod_mul(A*v^u)");
        check(BN_mod_exp(s, base, b, n, ctx), "BN_mod_exp((A*v^u)^b)");
        double t3 = cpu_seconds();
        t_gb += t1 - t0;
        t_vu += t2 - t1;
        t_s += t3 - t2;

        /* The stronger baseline: Montgomery context for N computed once and reused. */
        t0 = cpu_seconds();
        check(BN_mod_exp_mont(gb, g, b, n, ctx, mont), "BN_mod_exp_mont(g^b)");
        t1 = cpu_seconds();
        check(BN_mod_exp_mont(vu, v, u, n, ctx, mont), "BN_mod_exp_mont(v^u)");
        t2 = cpu_seconds();
        check(BN_mod_mul_montgomery(base, a_pub, vu, mont, ctx), "BN_mod_mul_montgomery");
        check(BN_mod_exp_mont(s, base, b, n, ctx, mont), "BN_mod_exp_mont((A*v^u)^b)");
        t3 = cpu_seconds();
        t_gb_mont += t1 - t0;
        t_vu_mont += t2 - t1;
        t_s_mont += t3 - t2;
    }

    double per = 1e6 / (double)iterations;
    double total = (t_gb + t_vu + t_s) * per;
    double total_mont = (t_gb_mont + t_vu_mont + t_s_mont) * per;
    printf("OpenSSL %s, %ld iterations, 2048-bit N, 256-bit exponents, CPU time on one core\n",
           OpenSSL_version(OPENSSL_VERSION), iterations);
    printf("BN_mod_exp:       g^b %8.1f us   v^u %8.1f us   (A*v^u)^b %8.1f us   total %8.1f us   %8.0f auth/s\n",
           t_gb * per, t_vu * per, t_s * per, total, 1e6 / total);
    printf("BN_mod_exp_mont:  g^b %8.1f us   v^u %8.1f us   (A*v^u)^b %8.1f us   total %8.1f us   %8.0f auth/s\n",
           t_gb_mont * per, t_vu_mont * per, t_s_mont * per, total_mont, 1e6 / total_mont);

    /* One line for programs that read this output (idflow's bench module). */
    printf("idflow-openssl iterations=%ld bn_mod_exp_total_us=%.1f bn_mod_exp_mont_total_us=%.1f\n",
           iterations, total, total_mont);

    BN_MONT_CTX_free(mont);
    BN_free(n); BN_free(g); BN_free(b); BN_free(u); BN_free(v); BN_free(a_pub);
    BN_free(gb); BN_free(vu); BN_free(base); BN_free(s);
    BN_CTX_free(ctx);
    return 0;
}
