/* Test harness: a private Xvfb on a free display, and the probe fixture app
 * driven over its stdin/stdout. */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

struct dp_xvfb {
	pid_t pid;
	int number;
	char display[16]; /* ":N" */
};

/* Starts Xvfb with one WIDTHxHEIGHTx24 screen; Xvfb picks a free display
 * number itself (-displayfd).  extra: more arguments, NULL-terminated, or
 * NULL.  Returns 0 or a negative errno. */
int dp_xvfb_start(struct dp_xvfb *x, int width, int height, const char *const *extra);
void dp_xvfb_stop(struct dp_xvfb *x);

/* Starts a program on the display (x NULL: no display) with a plain argv;
 * returns its pid or -1. */
pid_t dp_spawn_on(const struct dp_xvfb *x, const char *const *argv);
void dp_reap(pid_t pid);

struct dp_probe {
	pid_t pid;
	FILE *in;     /* commands */
	int out_fd;   /* JSON lines */
	/* A thread reads the app's output as it comes, so the app never
	 * blocks on a full pipe while a test is busy acting on it. */
	pthread_t reader;
	pthread_mutex_t lock;
	pthread_cond_t more;
	char *buf;
	size_t len, cap;
	bool eof, reading;
	long window, x, y, width, height;
	char ready[512]; /* the app's "ready" line */
};

/* Starts the probe (path from $DP_PROBE) with a window at x,y of w x h
 * and waits for it to be drawn.  Returns 0 or a negative errno. */
int dp_probe_start(struct dp_probe *p, const struct dp_xvfb *x, int wx, int wy, int w, int h);
/* Starts any fixture app speaking the probe's line protocol (argv[0] is a
 * path) on x's display (or none: NULL) and waits for its "ready" line. */
int dp_app_start(struct dp_probe *p, const struct dp_xvfb *x, const char *const *argv);
/* Sends "sync" and collects the lines that come before "synced". */
int dp_app_collect(struct dp_probe *p, char (*lines)[512], size_t max, size_t *n);
/* Asks for the app's committed text ("text" command) and decodes it. */
int dp_app_text(struct dp_probe *p, char *text, size_t size);
int dp_probe_send(struct dp_probe *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Reads lines until one with "event":"<event>" arrives; copies it to line.
 * Returns 0, or -ETIMEDOUT after timeout_ms. */
int dp_probe_wait(struct dp_probe *p, const char *event, int timeout_ms, char *line, size_t size);
void dp_probe_stop(struct dp_probe *p);

/* Counts the pixels of frame that differ from what the probe painted
 * there; the stamp square must hold stamp_counter. */
struct dp_frame;
long dp_probe_mismatches(const struct dp_probe *p, const struct dp_frame *frame, uint32_t stamp_counter);

/* Runs argv (argv[0] a path) to its end with stdin_text on its stdin (or
 * nothing) and what it printed in out and err; returns its exit status,
 * or 128 + the signal that ended it. */
int dp_run(const char *const *argv, const char *stdin_text, char *out, size_t out_size, char *err, size_t err_size);

/* The whole file as a NUL-terminated string (free it), or NULL. */
char *dp_read_file(const char *path);

/* Starts the probe full screen on a new Xvfb of width x height and gives
 * it the keyboard focus.  Returns 0, or -1 after a message. */
int dp_probe_start_focused(struct dp_probe *p, struct dp_xvfb *x, int width, int height);

/* The integer value of "key": in a flat JSON line, or -1. */
long long dp_json_int(const char *line, const char *key);
