// The `nex-agent` executable: started by a node, never by hand.
