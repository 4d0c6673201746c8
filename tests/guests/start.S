/* start.S: test-guest entry. The first 0x200 bytes stand where a bzImage's
 * 32-bit entry would be; startup_64 (offset 0x200) is the 64-bit entry the
 * monitor jumps to, with paging on and RSI = boot_params. */
	.section .text.head, "ax"
	.code64
	.globl startup_32
startup_32:
	cli
1:	hlt
	jmp 1b
	.org 0x200
	.globl startup_64
startup_64:
	cli
	lea stack_top(%rip), %rsp
	mov %rsi, %rdi
	call guest_main
2:	cli
	hlt
	jmp 2b

	.section .bss
	.balign 16
stack:
	.skip 16384
stack_top:
	.section .note.GNU-stack,"",@progbits
