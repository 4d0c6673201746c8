"""linux_host.py: can this host boot a stock Linux kernel under KVM?"""
import os


def hardware_virt_reason():
    """None if stock kernels can boot under /dev/kvm here, else why not."""
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return "no usable /dev/kvm on this host"
    if os.path.exists("/sys/module/kvm_pvm"):
        return ("host KVM is PVM (paravirtual, kvm_pvm): stock Linux kernels cannot boot "
                "on it; this test needs VT-x or AMD-V (kvm_intel/kvm_amd)")
    if not (os.path.exists("/sys/module/kvm_intel") or os.path.exists("/sys/module/kvm_amd")):
        return "neither kvm_intel nor kvm_amd is loaded: no hardware virtualization here"
    return None
