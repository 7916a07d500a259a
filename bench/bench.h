/*
 * Helpers for the benchmark programs. Each program prints one line per
 * figure: "W<n> <name>: <value> <unit> (<details>)", the median of several
 * runs, compared against a baseline measured in the same run.
 */
#ifndef WIRE_BENCH_H
#define WIRE_BENCH_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static inline int64_t bench_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Median of @n values (sorts them). */
static inline double bench_median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), bench_cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Number of repetitions: BENCH_RUNS from the environment, default @def. */
static inline int bench_runs(int def)
{
	const char *s = getenv("BENCH_RUNS");
	int v = s ? atoi(s) : def;
	return v > 0 ? v : def;
}

/*
 * A row of the table `make bench` ends with (bench/run.sh): the workload,
 * libwire's figure and the baseline measured in the same run, separated
 * by '|'; @key ties the row to the Go figure of the same workload.
 */
#define bench_row(key, workload, fmt, ...) printf("ROW|%s|%s|" fmt "\n", key, workload, __VA_ARGS__)

/* Peak resident set size of this process in KiB. */
static inline long bench_peak_rss_kib(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

#endif
