# 10% packet loss on every peer for 20 s (kernel faults: isopeer test as root, --net netns).
# Probes and acks get lost, suspicions may be raised, but Lifeguard's indirect probes and
# refutations keep every live peer alive: nobody is declared failed. Chat lines travel over TCP,
# which resends what is lost: every line is delivered, exactly once.
@deadline 30s
alice init
bob init
charly init
alice testfilter messagesView 0 /^<left>/
bob testfilter messagesView 0 /^<left>/
charly testfilter messagesView 0 /^<left>/
alice testfilter messagesView 2 /^<bob> lossy [12]$/
alice testfilter messagesView 2 /^<charly> lossy [12]$/
bob testfilter messagesView 2 /^<alice> lossy [12]$/
bob testfilter messagesView 2 /^<charly> lossy [12]$/
charly testfilter messagesView 2 /^<alice> lossy [12]$/
charly testfilter messagesView 2 /^<bob> lossy [12]$/
@loss alice 10%
@loss bob 10%
@loss charly 10%
alice msg lossy 1
bob msg lossy 1
charly msg lossy 1
# the loss stays on for 20 s
alice sleep 20
alice msg lossy 2
bob msg lossy 2
charly msg lossy 2
@heal
