{
  "targets": [
    {
      "target_name": "passt_native",
      "sources": [
        "src/native/addon.cc",
        "src/native/constants.cc",
        "src/native/csum.cc",
        "src/native/event.cc",
        "src/native/fd.cc",
        "src/native/inet.cc",
        "src/native/ns.cc",
        "src/native/recverr.cc",
        "src/native/sock.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions", "-O3"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-O3"],
      "cflags": ["-O2", "-Wall", "-Wextra"],
      "cflags_cc": ["-std=c++17", "-O2", "-fexceptions", "-Wall", "-Wextra"],
      # Never unloaded: a worker thread's env dlcloses its addons before its loop runs the last
      # uv_close callbacks of poll watchers (src/native/event.cc), which live in this library.
      "ldflags": ["-Wl,-z,nodelete"]
    }
  ]
}
