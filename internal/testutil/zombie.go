package testutil

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// zombieLeaderC is a holder whose main thread exits: it opens PATH, maps
// it (mode "map") or keeps only the descriptor (mode "fd"), starts a
// thread and calls pthread_exit in main. The process runs on in that
// thread, which prints "ready" once the main thread is a zombie and exits
// when its stdin closes. Its /proc/PID/maps and /proc/PID/fd then read
// empty; the mapping and the descriptor are in /proc/PID/task/TID.
const zombieLeaderC = `
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static pthread_t leader;

static void *run(void *arg) {
	(void)arg;
	/* Wait until the main thread has exited (joining it returns then). */
	if (pthread_join(leader, NULL) != 0)
		exit(5);
	/* The leader's /proc entry turns zombie a moment after the join. */
	char path[64], st[512];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)getpid());
	for (int i = 0; i < 10000; i++) {
		FILE *f = fopen(path, "r");
		if (f == NULL)
			exit(6);
		size_t n = fread(st, 1, sizeof st - 1, f);
		fclose(f);
		st[n] = 0;
		char *p = strrchr(st, ')');
		if (p != NULL && p[1] == ' ' && p[2] == 'Z')
			break;
		usleep(1000);
	}
	printf("ready\n");
	fflush(stdout);
	char b[64];
	while (read(0, b, sizeof b) > 0) {
	}
	exit(0);
}

int main(int argc, char **argv) {
	if (argc != 3)
		return 2;
	int fd = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		perror("open");
		return 3;
	}
	if (strcmp(argv[2], "map") == 0) {
		struct stat st;
		if (fstat(fd, &st) != 0 || mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0) == MAP_FAILED) {
			perror("mmap");
			return 3;
		}
		close(fd);
	}
	leader = pthread_self();
	pthread_t t;
	if (pthread_create(&t, NULL, run, NULL) != 0)
		return 4;
	pthread_exit(NULL);
}
`

// StartZombieLeader builds (with the C compiler, skipping the test if
// there is none) and starts a process that holds the file at path (mode
// "map": mapped; "fd": only a descriptor open) from a thread, its main
// thread having exited: see zombieLeaderC. It returns once the main
// thread is a zombie; the process exits when the test ends.
func StartZombieLeader(t testing.TB, path, mode string) *exec.Cmd {
	t.Helper()
	cc, err := exec.LookPath("cc")
	if err != nil {
		if cc, err = exec.LookPath("gcc"); err != nil {
			SkipOrFail(t, "no C compiler to build the zombie-leader holder")
		}
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "zombie.c")
	bin := filepath.Join(dir, "zombie")
	if err := os.WriteFile(src, []byte(zombieLeaderC), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(cc, "-O2", "-pthread", "-o", bin, src).CombinedOutput(); err != nil {
		t.Fatalf("building the zombie-leader holder: %v\n%s", err, out)
	}
	return StartHolder(t, exec.Command(bin, path, mode), "zombie-leader holder ("+mode+") of "+path)
}
