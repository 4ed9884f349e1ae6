#include "engine/ocr_workers.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/ocr_backend.h"
#include "engine/ocr_prep.h"

#define THREADS_MAX 16

struct dp_ocr_workers {
	char lang[DP_OCR_LANG_MAX];
	enum dp_ocr_psm psm;
	int threads;
	struct dp_ocr_backend *backends[THREADS_MAX]; /* [0] made at create, the rest on demand */
};

/* One read: the jobs, and the next one to take. */
struct run {
	struct dp_ocr_workers *w;
	const struct dp_frame *frame;
	int32_t scale;
	int dpi;
	struct dp_ocr_job *jobs;
	size_t n;
	atomic_size_t next;
};

struct thread_arg {
	struct run *run;
	int index; /* which backend */
};

int dp_ocr_workers_create(struct dp_ocr_workers **out, const char *lang, int threads, struct dp_error *err)
{
	struct dp_ocr_workers *w = calloc(1, sizeof(*w));
	int r;

	*out = NULL;
	if (!w)
		return dp_error_set(err, -ENOMEM, "ocr: out of memory");
	snprintf(w->lang, sizeof(w->lang), "%s", lang);
	w->psm = DP_OCR_PSM_SPARSE;
	dp_ocr_workers_set_threads(w, threads);
	r = dp_ocr_backend_create(&w->backends[0], w->lang, err);
	if (r < 0) {
		free(w);
		return r;
	}
	*out = w;
	return 0;
}

void dp_ocr_workers_destroy(struct dp_ocr_workers *w)
{
	if (!w)
		return;
	for (int i = 0; i < THREADS_MAX; i++)
		dp_ocr_backend_destroy(w->backends[i]);
	free(w);
}

void dp_ocr_workers_set_psm(struct dp_ocr_workers *w, enum dp_ocr_psm psm)
{
	w->psm = psm;
	for (int i = 0; i < THREADS_MAX; i++)
		if (w->backends[i])
			dp_ocr_backend_set_psm(w->backends[i], psm);
}

void dp_ocr_workers_set_threads(struct dp_ocr_workers *w, int threads)
{
	w->threads = threads < 1 ? 1 : threads > THREADS_MAX ? THREADS_MAX : threads;
}

int dp_ocr_workers_threads(const struct dp_ocr_workers *w)
{
	return w->threads;
}

static int append(struct dp_ocr_job *job, const struct dp_ocr_word *word)
{
	if (job->n == job->cap) {
		size_t cap = job->cap ? job->cap * 2 : 64;
		struct dp_ocr_word *v = realloc(job->words, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		job->words = v;
		job->cap = cap;
	}
	job->words[job->n++] = *word;
	return 0;
}

static void run_job(struct run *run, struct dp_ocr_backend *b, struct dp_ocr_job *job)
{
	const struct dp_frame *f = run->frame;
	struct dp_rect in_frame = { job->crop.x - f->x, job->crop.y - f->y, job->crop.width, job->crop.height };
	struct dp_rect keep = { job->piece.x - f->x, job->piece.y - f->y, job->piece.width, job->piece.height };
	struct dp_ocr_word *raw = NULL;
	size_t n = 0, cap = 0;
	int32_t s = run->scale;
	struct dp_ocr_image img;

	job->n = 0;
	job->r = dp_ocr_prepare(f, in_frame, keep, s, &img);
	if (job->r < 0) {
		dp_error_set(&job->err, job->r, "ocr: out of memory preparing %dx%d pixels", in_frame.width,
			     in_frame.height);
		return;
	}
	job->r = dp_ocr_backend_recognize(b, &img, run->dpi, &raw, &n, &cap, &job->err);
	for (size_t i = 0; i < n; i++)
		raw[i].box = dp_ocr_image_ink(&img, raw[i].box);
	dp_ocr_image_free(&img);
	for (size_t i = 0; job->r == 0 && i < n; i++) {
		struct dp_ocr_word w = raw[i];
		int32_t x0 = w.box.x / s, y0 = w.box.y / s;
		int32_t x1 = (w.box.x + w.box.width + s - 1) / s, y1 = (w.box.y + w.box.height + s - 1) / s;
		int32_t cx, cy;

		w.box = (struct dp_rect){ f->x + img.area.x + x0, f->y + img.area.y + y0, x1 - x0, y1 - y0 };
		cx = w.box.x + w.box.width / 2;
		cy = w.box.y + w.box.height / 2;
		if (cx < job->piece.x || cy < job->piece.y || cx >= job->piece.x + job->piece.width ||
		    cy >= job->piece.y + job->piece.height)
			continue; /* another job's, or outside what was asked */
		if (append(job, &w) < 0)
			job->r = dp_error_set(&job->err, -ENOMEM, "ocr: out of memory for words");
	}
	free(raw);
}

static void *work(void *data)
{
	struct thread_arg *arg = data;
	struct run *run = arg->run;
	struct dp_ocr_backend **b = &run->w->backends[arg->index];
	size_t i;

	if (!*b) {
		struct dp_error err = { 0 };

		/* Made here, so the instances of a pool load in parallel. */
		if (dp_ocr_backend_create(b, run->w->lang, &err) < 0)
			return NULL; /* the other threads take the jobs */
		dp_ocr_backend_set_psm(*b, run->w->psm);
	}
	while ((i = atomic_fetch_add(&run->next, 1)) < run->n)
		run_job(run, *b, &run->jobs[i]);
	return NULL;
}

void dp_ocr_workers_run(struct dp_ocr_workers *w, const struct dp_frame *frame, int32_t scale, int dpi,
			struct dp_ocr_job *jobs, size_t n)
{
	struct run run = { .w = w, .frame = frame, .scale = scale, .dpi = dpi, .jobs = jobs, .n = n };
	struct thread_arg args[THREADS_MAX], self = { &run, 0 };
	pthread_t threads[THREADS_MAX];
	int started = 0, helpers = w->threads - 1;

	if (n == 0)
		return;
	atomic_init(&run.next, 0);
	if ((size_t)helpers > n - 1)
		helpers = (int)n - 1; /* no more threads than jobs */
	for (int t = 0; t < helpers; t++) {
		args[started] = (struct thread_arg){ &run, t + 1 };
		if (pthread_create(&threads[started], NULL, work, &args[started]) != 0)
			break; /* fewer threads, same jobs */
		started++;
	}
	work(&self); /* this thread works too, with the first instance */
	for (int t = 0; t < started; t++)
		pthread_join(threads[t], NULL);
}
