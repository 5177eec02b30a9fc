# Pause and resume: bob is frozen with SIGSTOP for about a second, shorter than failure
# detection takes. alice's probes go unanswered meanwhile, but bob answers again in time, so
# nobody declares him failed; once continued he chats as if nothing happened.
@deadline 15s
alice init
bob init
alice testfilter messagesView 0 /^<left> bob/
@stop bob
# the freeze lasts while alice sleeps
alice sleep 1
@cont bob
alice testfilter messagesView 1 "<bob> good morning"
bob msg good morning
bob testfilter messagesView 1 "<alice> welcome back"
alice msg welcome back
