/* demo_guest.S: the bundled demo guest (tests/guests/bootcheck), embedded
 * so that `kvmini run` with no --kernel boots something that reports what
 * the VM gave it. */
	.section .rodata
	.balign 16
	.globl demo_guest_start
	.globl demo_guest_end
demo_guest_start:
	.incbin "bootcheck.elf"
demo_guest_end:
	.section .note.GNU-stack,"",@progbits
