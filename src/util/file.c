/* file.c: read-only mappings of kernel and initrd files. */
#include "util/file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/log.h"

uint8_t *file_map(const char *path, const char *what, size_t *len)
{
	struct stat st;
	void *p;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		error_errno("cannot open %s %s", what, path);
		return NULL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size == 0) {
		error("%s %s is not a non-empty regular file", what, path);
		close(fd);
		return NULL;
	}
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		error_errno("cannot map %s %s", what, path);
		return NULL;
	}
	*len = (size_t)st.st_size;
	return p;
}

void file_unmap(uint8_t *p, size_t len)
{
	if (p)
		munmap(p, len);
}
