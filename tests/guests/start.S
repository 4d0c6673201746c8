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

/* PVH entry (XEN_ELFNOTE_PHYS32_ENTRY), so QEMU can boot the same guest
 * with -kernel for side-by-side benchmarks: 32-bit protected mode, paging
 * off. Map the first 16 MiB with 2 MiB pages, enter long mode, and join
 * startup_64 with RSI pointing at a zero page holding only the command line. */
	.section .note.pvh, "a", @note
	.balign 4
	.long 4
	.long 4
	.long 18
	.asciz "Xen"
	.long pvh_start32

	.section .text.pvh, "ax"
	.code32
pvh_start32:
	cli
	movl 0x18(%ebx), %eax           /* hvm_start_info.cmdline_paddr */
	movl %eax, pvh_zero_page + 0x228 /* ... as boot_params.hdr.cmd_line_ptr */
	movl $pvh_pdpt + 3, pvh_pml4
	movl $pvh_pd + 3, pvh_pdpt
	xorl %ecx, %ecx
1:	movl %ecx, %eax
	shll $21, %eax
	orl $0x83, %eax
	movl %eax, pvh_pd(,%ecx,8)
	incl %ecx
	cmpl $8, %ecx
	jb 1b
	movl %cr4, %eax
	orl $0x20, %eax
	movl %eax, %cr4
	movl $pvh_pml4, %eax
	movl %eax, %cr3
	movl $0xc0000080, %ecx
	rdmsr
	orl $0x100, %eax
	wrmsr
	movl %cr0, %eax
	orl $0x80000001, %eax
	movl %eax, %cr0
	lgdt pvh_gdt_desc
	ljmp $0x08, $pvh_start64
	.code64
pvh_start64:
	movl $0x10, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	lea pvh_zero_page(%rip), %rsi
	jmp startup_64

	.section .data
	.balign 8
pvh_gdt:
	.quad 0, 0x00af9a000000ffff, 0x00cf92000000ffff
pvh_gdt_desc:
	.word 23
	.long pvh_gdt

	.section .bss
	.balign 4096
pvh_pml4: .skip 4096
pvh_pdpt: .skip 4096
pvh_pd: .skip 4096
pvh_zero_page: .skip 4096
	.section .note.GNU-stack,"",@progbits
