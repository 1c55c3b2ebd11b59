print("nex-demo")
