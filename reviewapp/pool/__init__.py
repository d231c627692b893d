"""The expert pool (专家库) as reviews draw from it: profiles, the random draw with recusal, confirmation, evaluation."""
