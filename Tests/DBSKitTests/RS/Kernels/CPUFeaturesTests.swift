import DBSSystem
import DBSTestSupport
import Testing

@testable import DBSKit
@testable import DBSReedSolomon

/// CPU feature detection on the texts and capability bits real machines give, x86-64
/// and arm64 alike, whichever architecture runs the test; and on the machine itself.
@Suite("CPU features")
struct CPUFeaturesTests {
    /// The first block of this development machine's /proc/cpuinfo (AMD EPYC Zen 3 VM,
    /// AVX2 without AVX-512), 2026-12-01.
    static let epycAVX2 = """
        processor\t: 0
        vendor_id\t: AuthenticAMD
        cpu family\t: 25
        model\t\t: 1
        model name\t: AMD EPYC
        stepping\t: 1
        microcode\t: 0x1000065
        cpu MHz\t\t: 2445.406
        cache size\t: 512 KB
        fpu\t\t: yes
        cpuid level\t: 16
        flags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse \
        sse2 ht syscall nx mmxext fxsr_opt pdpe1gb rdtscp lm constant_tsc rep_good nopl xtopology nonstop_tsc cpuid \
        extd_apicid tsc_known_freq pni pclmulqdq ssse3 fma cx16 pcid sse4_1 sse4_2 x2apic movbe popcnt \
        tsc_deadline_timer aes xsave avx f16c rdrand hypervisor lahf_lm cmp_legacy cr8_legacy abm sse4a misalignsse \
        3dnowprefetch osvw topoext ssbd ibrs ibpb stibp vmmcall fsgsbase tsc_adjust bmi1 avx2 smep bmi2 erms invpcid \
        rdseed adx smap clflushopt clwb sha_ni xsaveopt xsavec xgetbv1 xsaves clzero xsaveerptr wbnoinvd arat umip \
        pku ospke vaes vpclmulqdq rdpid fsrm
        bugs\t\t: sysret_ss_attrs spectre_v1 spectre_v2 spec_store_bypass srso ibpb_no_ret spectre_v2_user
        bogomips\t: 4890.81
        address sizes\t: 48 bits physical, 48 bits virtual

        processor\t: 1
        model name\t: AMD EPYC
        """

    /// AWS Graviton2 (Neoverse-N1) as Linux prints it (arch/arm64/kernel/cpuinfo.c).
    static let graviton2 = """
        processor\t: 0
        BogoMIPS\t: 243.75
        Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp ssbs
        CPU implementer\t: 0x41
        CPU architecture: 8
        CPU variant\t: 0x3
        CPU part\t: 0xd0c
        CPU revision\t: 1

        """

    /// AWS Graviton3 (Neoverse-V1): SVE, no SVE2.
    static let graviton3 = """
        processor\t: 0
        BogoMIPS\t: 2100.00
        Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm jscvt fcma \
        lrcpc dcpop sha3 sm3 sm4 asimddp sha512 sve asimdfhm dit uscat ilrcpc flagm ssbs paca pacg dcpodp svei8mm \
        svebf16 i8mm bf16 dgh rng
        CPU implementer\t: 0x41
        CPU architecture: 8
        CPU variant\t: 0x1
        CPU part\t: 0xd40
        CPU revision\t: 1
        """

    /// An auxiliary vector's bytes from (type, value) pairs, native-endian, 0-terminated.
    static func auxv(_ pairs: [(UInt64, UInt64)]) -> [UInt8] {
        (pairs + [(0, 0)]).flatMap { pair in
            withUnsafeBytes(of: pair.0) { Array($0) } + withUnsafeBytes(of: pair.1) { Array($0) }
        }
    }

    // arm64 AT_HWCAP bits: ASIMD 1 << 1, PMULL 1 << 4, SVE 1 << 22; AT_HWCAP2: SVE2 1 << 1.
    static let asimd: UInt64 = 1 << 1, pmull: UInt64 = 1 << 4, sve: UInt64 = 1 << 22, sve2: UInt64 = 1 << 1

    @Test("x86-64: model name and flags of a real AVX2-only EPYC")
    func x86() {
        let cpu = CPUFeatures(cpuinfo: Self.epycAVX2, architecture: "x86_64")
        #expect(cpu.modelName == "AMD EPYC")
        #expect(cpu.simdFeatures == ["sse4.2", "avx2"])
        #expect(!cpu.cpuinfoIsForeign)
        #expect(cpu.description == "x86_64, AMD EPYC, sse4.2 avx2")
        let zen4 = CPUFeatures(
            cpuinfo: "model name\t: AMD EPYC 9B14\nflags\t\t: fpu sse4_1 sse4_2 avx2 avx512f avx512bw gfni\n",
            architecture: "x86_64")
        #expect(zen4.simdFeatures == ["sse4.2", "avx2", "avx512f", "avx512bw", "gfni"])
        // Only the first processor's block is read.
        let twoBlocks = CPUFeatures(
            cpuinfo: "model name\t: first\nflags\t: avx2\n\nmodel name\t: second\nflags\t: gfni\n",
            architecture: "x86_64")
        #expect(twoBlocks.modelName == "first" && twoBlocks.simdFeatures == ["avx2"])
    }

    @Test("arm64: the Features line and the core named from implementer and part")
    func arm64CPUInfo() {
        let n1 = CPUFeatures(cpuinfo: Self.graviton2, architecture: "arm64")
        #expect(n1.simdFeatures == ["neon", "pmull"])
        #expect(n1.modelName == "Arm Neoverse-N1")
        #expect(!n1.cpuinfoIsForeign)
        #expect(n1.description == "arm64, Arm Neoverse-N1, neon pmull")
        let v1 = CPUFeatures(cpuinfo: Self.graviton3, architecture: "arm64")
        #expect(v1.simdFeatures == ["neon", "pmull", "sve"])
        #expect(v1.modelName == "Arm Neoverse-V1")
        let unknownPart = CPUFeatures(
            cpuinfo: "Features\t: fp asimd\nCPU implementer\t: 0x61\nCPU part\t: 0x039\n",
            architecture: "arm64")
        #expect(unknownPart.modelName == "Apple part 0x039")
    }

    @Test("arm64: AT_HWCAP bits win over the Features line")
    func arm64Hwcap() {
        let vector = AuxiliaryVector(
            bytes: Self.auxv([(6, 4096), (16, Self.asimd | Self.pmull | Self.sve), (26, Self.sve2)]))
        #expect(vector.hwcap == Self.asimd | Self.pmull | Self.sve)
        let cpu = CPUFeatures(cpuinfo: Self.graviton2, architecture: "arm64", auxiliaryVector: vector)
        #expect(cpu.simdFeatures == ["neon", "pmull", "sve", "sve2"])
        #expect(cpu.modelName == "Arm Neoverse-N1")
        let bare = CPUFeatures(
            cpuinfo: "", architecture: "arm64",
            auxiliaryVector: AuxiliaryVector(entries: [16: Self.asimd]))
        #expect(bare.simdFeatures == ["neon"])
        #expect(bare.description == "arm64, neon")
    }

    @Test("arm64 under user-mode emulation: the host's x86 cpuinfo is not taken for this CPU")
    func arm64Emulated() {
        let vector = AuxiliaryVector(entries: [16: Self.asimd | Self.pmull | Self.sve, 26: Self.sve2])
        let cpu = CPUFeatures(cpuinfo: Self.epycAVX2, architecture: "arm64", auxiliaryVector: vector)
        #expect(cpu.cpuinfoIsForeign)
        #expect(cpu.modelName == nil)
        #expect(cpu.simdFeatures == ["neon", "pmull", "sve", "sve2"])
        #expect(cpu.description.contains("emulated?"))
        // Without the capability bits nothing is claimed from the foreign text.
        #expect(CPUFeatures(cpuinfo: Self.epycAVX2, architecture: "arm64").simdFeatures == [])
        // And the other way round (an x86-64 binary shown an arm64 host's file).
        let x86OnArm = CPUFeatures(cpuinfo: Self.graviton2, architecture: "x86_64")
        #expect(x86OnArm.cpuinfoIsForeign && x86OnArm.simdFeatures == [] && x86OnArm.modelName == nil)
        #expect(CPUFeatures(cpuinfo: "", architecture: "riscv64").description == "riscv64, no SIMD features known")
    }

    @Test("the auxiliary vector parser takes whole pairs and stops at the end marker or damage")
    func auxiliaryVectorBytes() {
        #expect(AuxiliaryVector(bytes: Self.auxv([(16, 7), (26, 9), (16, 1)])).entries == [16: 7, 26: 9])
        // Cut inside the second pair: the first alone survives.
        #expect(AuxiliaryVector(bytes: Array(Self.auxv([(16, 7), (26, 9)]).prefix(24))).entries == [16: 7])
        // Pairs after the end marker are not read.
        #expect(AuxiliaryVector(bytes: Self.auxv([(16, 7)]) + Self.auxv([(26, 9)])).entries == [16: 7])
        #expect(AuxiliaryVector(bytes: []).entries.isEmpty)
        var rng = SeededGenerator(seed: 0xA0C5)
        for length in [1, 7, 15, 16, 17, 31, 100, 4096] {
            _ = AuxiliaryVector(bytes: rng.bytes(length))
            _ = CPUFeatures(
                cpuinfo: String(decoding: rng.bytes(length), as: UTF8.self), architecture: "arm64",
                auxiliaryVector: AuxiliaryVector(bytes: rng.bytes(length)))
            _ = CPUFeatures(cpuinfo: String(decoding: rng.bytes(length), as: UTF8.self), architecture: "x86_64")
        }
    }

    @Test("ISA-L's dispatcher follows the capability bits on arm64 (SVE2, SVE, NEON); x86-64 cannot be asked")
    func isalDispatch() throws {
        #if ISAL && arch(arm64) && os(Linux)
        let kernel = try #require(ISALDispatch.encodeKernel)
        let features = CPUFeatures.current.simdFeatures
        if features.contains("sve") {
            // An ISA-L without an SVE2 kernel (2.31) takes its SVE one on SVE2 machines.
            let allowed =
                features.contains("sve2") ? ["ec_encode_data_sve2", "ec_encode_data_sve"] : ["ec_encode_data_sve"]
            #expect(allowed.contains(kernel), "features \(features)")
        } else {
            #expect(kernel == "ec_encode_data_neon", "features \(features)")
        }
        #else
        #expect(ISALDispatch.encodeKernel == nil)
        #endif
    }

    #if os(Linux)
    @Test("this machine: its own /proc files, on x86-64 or arm64")
    func thisMachine() throws {
        let current = CPUFeatures.current
        #expect(current.architecture == CPUFeatures.compiledArchitecture)
        // The kernel's own auxiliary vector parses: its page size entry is the real one.
        let file = try #require(fopen("/proc/self/auxv", "r"))
        defer { fclose(file) }
        var bytes = [UInt8](repeating: 0, count: 4096)
        let count = bytes.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
        let vector = AuxiliaryVector(bytes: Array(bytes[0..<count]))
        #expect(vector.entries[6] == UInt64(sysconf(Int32(_SC_PAGESIZE))))  // AT_PAGESZ
        #if arch(arm64)
        // Advanced SIMD is part of every arm64 Linux ABI: what both fast kernels need.
        #expect(current.simdFeatures.first == "neon")
        #expect(vector.hwcap.map { $0 & Self.asimd != 0 } == true)
        #elseif arch(x86_64)
        #expect(!current.cpuinfoIsForeign && current.modelName != nil)
        #endif
    }
    #endif
}
