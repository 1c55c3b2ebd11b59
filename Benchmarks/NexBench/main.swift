print("nex-bench")
