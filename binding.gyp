# The native attention kernel (native/*.c) as a Node-API addon, built by `npm install` through
# scripts/build-native.js. -O3 without -march=native: the addon picks AVX-512, AVX2 + FMA or portable code at
# run time, so the binary built here runs on any x86-64 CPU (and the portable code on any other).
{
  "targets": [
    {
      "target_name": "attention",
      "sources": ["native/attention.c", "native/binding.c", "native/machine.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags!": ["-O2", "-O0", "-fno-omit-frame-pointer"],
      "cflags_c": ["-std=gnu11", "-O3", "-fvisibility=hidden", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "ldflags": ["-pthread"],
      "xcode_settings": {
        "GCC_OPTIMIZATION_LEVEL": "3",
        "OTHER_CFLAGS": ["-std=gnu11"]
      },
      "msvs_settings": {
        "VCCLCompilerTool": { "Optimization": 2 }
      }
    }
  ]
}
