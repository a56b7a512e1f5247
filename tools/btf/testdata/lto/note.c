// note.c - the note Linux's include/linux/elfnote-lto.h adds to vmlinux:
// LINUX_ELFNOTE_LTO_INFO (0x101), owner "Linux", a 4-byte value that is 1 when the kernel
// was built with LTO. build.sh links it into two fixtures with LTO_NOTE 1 and 0.
#define STR(x) #x
#define XSTR(x) STR(x)
asm(".pushsection .note.Linux,\"a\",@note\n"
    ".balign 4\n"
    ".long 6\n"
    ".long 4\n"
    ".long 0x101\n"
    ".asciz \"Linux\"\n"
    ".balign 4\n"
    ".long " XSTR(LTO_NOTE) "\n"
    ".popsection\n");
