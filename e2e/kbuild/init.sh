#!/bin/sh
# init.sh - /init of the kernel-build test's initramfs (run.sh): checks the kernel's
# BTF and every module's, printing KBTEST lines that run.sh reads from the serial
# console, then reboots (a tinyconfig kernel has no ACPI: QEMU -no-reboot exits).
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
if [ -r /sys/kernel/btf/vmlinux ]; then echo "KBTEST vmlinux-btf ok"; else echo "KBTEST vmlinux-btf missing"; fi
if bpftool btf dump file /sys/kernel/btf/vmlinux format c > /tmp/vmlinux.h; then
  echo "KBTEST bpftool vmlinux ok $(wc -l < /tmp/vmlinux.h) lines"
else
  echo "KBTEST bpftool vmlinux FAIL"
fi
for ko in /lib/modules/*.ko; do
  m=$(basename "$ko" .ko | tr - _)
  r="insmod"
  if insmod "$ko"; then r="$r ok"; else r="$r FAIL"; fi
  if [ -r "/sys/kernel/btf/$m" ]; then r="$r btf ok"; else r="$r btf missing"; fi
  if bpftool -B /sys/kernel/btf/vmlinux btf dump file "/sys/kernel/btf/$m" format c > /tmp/m.h; then
    r="$r bpftool ok"
  else
    r="$r bpftool FAIL"
  fi
  echo "KBTEST module $m $r"
done
# The BTF objects the kernel holds (vmlinux's and each module's, BPF_BTF_GET_NEXT_ID),
# then the whole kernel log for run.sh to search for BTF errors.
echo "KBTEST btf-objects $(bpftool btf list 2>/dev/null | grep -c '^[0-9]*: name ')"
echo "KBTEST dmesg"
dmesg
echo "KBTEST done"
reboot -f
