/* libFuzzer target: key chords, key names and text to keysyms. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "actuators/keynames.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t keysyms[DP_CHORD_MAX];
	struct dp_error err = { 0 };
	char *chord = malloc(size + 1);

	if (!chord)
		return 0;
	memcpy(chord, data, size);
	chord[size] = '\0';
	uint32_t *text_keysyms = NULL;
	size_t n = 0;

	dp_chord_parse(chord, keysyms, &err);
	if (dp_text_keysyms(chord, &text_keysyms, &n, &err) == 0)
		free(text_keysyms);
	free(chord);
	return 0;
}
