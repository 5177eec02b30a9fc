# Pause and resume: bob is frozen with SIGSTOP for a moment (shorter than failure detection).
# A line sent to him meanwhile waits in his socket and is shown as soon as he continues;
# then he answers as if nothing happened.
@deadline 15s
alice init
bob init
@stop bob
alice msg while you slept
@cont bob
bob testwait messagesView 1 "<alice> while you slept" 10s
alice testfilter messagesView 1 "<bob> good morning"
bob msg good morning
