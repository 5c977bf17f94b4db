/*
 * execer - a target that exec()s in the middle of a trace.
 *
 * Prints "ready <pid>", calls tick(i) every 10 ms with i = 0, 1, 2, ...
 * for about 1.5 s, then exec()s /bin/sleep 30 (same pid, new program).
 * A trace on tick() must stop with an error naming the exec, and keep the
 * frames collected before it.
 */
#include <stdio.h>
#include <unistd.h>

volatile long ticked = -1;

__attribute__((noinline)) void tick(long i)
{
	ticked = i;
}

int main(void)
{
	long i;

	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	for (i = 0; i < 150; i++) {
		tick(i);
		usleep(10000);
	}
	execl("/bin/sleep", "sleep", "30", (char *)NULL);
	return 1;
}
