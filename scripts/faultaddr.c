/*
 * faultaddr.c: what a SIGBUS handler sees when a process touches a shared
 * mapping past the end of its (truncated) file. scripts/arm64.sh runs it
 * under qemu-user to show why the fault tests skip there: the kernel
 * reports the address both in siginfo (si_addr) and in the signal context
 * (uc_mcontext.fault_address on arm64, which Go's runtime reads); qemu-user
 * fills only si_addr. Prints one line; exits 0 when the two agree.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

static char *volatile touched;

static void handler(int sig, siginfo_t *si, void *ctx) {
	ucontext_t *uc = ctx;
#if defined(__aarch64__)
	unsigned long fa = uc->uc_mcontext.fault_address;
#elif defined(__x86_64__)
	unsigned long fa = uc->uc_mcontext.gregs[REG_CR2];
#else
	unsigned long fa = (unsigned long)si->si_addr;
#endif
	char buf[200];
	int n = snprintf(buf, sizeof buf, "signal %d code %d: si_addr %p, context fault address %#lx, touched %p\n",
	                 sig, si->si_code, si->si_addr, fa, (void *)touched);
	if (write(1, buf, (size_t)n) < 0)
		_exit(3);
	_exit(fa == (unsigned long)touched && si->si_addr == touched ? 0 : 1);
}

int main(void) {
	long ps = sysconf(_SC_PAGESIZE);
	char path[64];
	snprintf(path, sizeof path, "/dev/shm/sharedarray-faultaddr-%d", (int)getpid());
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fd < 0 || ftruncate(fd, 4 * ps) != 0)
		return 2;
	char *p = mmap(NULL, 4 * ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	unlink(path);
	if (p == MAP_FAILED || ftruncate(fd, ps) != 0)
		return 2;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = handler;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGBUS, &sa, NULL);
	touched = p + 2 * ps + 8;
	*touched = 1;
	return 2;
}
