"""Re-create core/assets/email_intents_register.tsv: English requests in the register customers write
in (lower case, typos, "ur", no greeting, one line, sometimes rude), for the requests the public
Bitext corpus leaves out of ../shared/data/support (cancellation fees, complaints, refunds, order
tracking, passwords and sign-up, appointments, partnerships, spam).

Written by the Mercury team: the phrases below are ours, combined with the openings customers use and
roughened by a seeded random typist. Nothing here is copied from a test set; the figures in
bench/triage.py are measured on sources this file never saw.
Run: .venv/bin/python scripts/make_register_examples.py
"""
from __future__ import annotations

import random
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "core" / "assets" / "email_intents_register.tsv"
PER_INTENT = 160
ORDER_NUMBERS = ("48213", "00123842", "370795561790", "#5521", "no 88123", "00004587345")

OPENINGS = (
    "{v}", "i need to {v}", "i want to {v}", "i'd like to {v}", "help me {v}", "help me to {v}", "can you help me {v}",
    "could you help me to {v}", "how do i {v}", "how can i {v}", "how to {v}", "where can i {v}", "where do i {v}",
    "i dont know how to {v}", "i do not know how i can {v}", "is it possible to {v}", "what do i have to do to {v}",
    "i want assistance to {v}", "want help to {v}", "i need help to {v}", "i have to {v}", "i've got to {v}", "i am trying to {v}",
    "can i {v}", "ya have a way to {v}", "tell me how to {v}", "can u help me {v}", "show me how to {v}", "i need info on how to {v}",
    "what's the way to {v}", "i cant {v}", "i'm calling to {v}", "i would like to {v}", "i wanna {v}", "need to {v}",
)
ENDINGS = ("", "", "", "?", " pls", " please", " asap", " thx", ", can u help", " now", " ??", ", its urgent", " for god's sake")

# Verb phrases ({v} above) and whole sentences, per intent.
PHRASES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "pricing": (
        (
            "check the cancellation fee", "see the early termination fee", "know the early exit penalty", "check how much it costs to cancel my plan",
            "find out the termination charges", "see what you charge for cancelling", "check the cancellation penalties",
            "get information about the early termination penalty", "know how much the pro plan costs", "see the price of the premium plan",
            "get a quote for 20 units", "check if there are discounts for students", "know ur prices", "compare the monthly and the yearly price",
            "see the price list", "check how much the upgrade costs", "get a discount code", "see the subscription fees",
            "find out what cancelling early will cost me", "check the fee for ending my contract early", "know the exit fee",
            "see if there is a penalty for cancelling", "check ur pricing for teams", "get a price for the family bundle",
            "see the payment options", "check which payment methods u accept", "know if i can pay with paypal",
        ),
        (
            "what are the cancellation fees", "how much is the early termination fee", "is there a fee to cancel", "whats the price of the pro plan",
            "do you charge a fee if i cancel", "how much do u charge to cancel before the year ends", "any discount for 50 licences",
            "what does the basic tier cost per month", "cancellation charges??", "termination fee how much", "r there fees for leaving early",
            "how much will it cost me to cancel", "is the yearly plan cheaper", "whats the monthly price after the trial",
        ),
    ),
    "order_status": (
        (
            "track my order {n}", "check the status of order {n}", "see where my package is", "know when my order will arrive",
            "find out where my parcel is", "check the delivery status of my purchase", "locate order {n}", "see if order {n} has shipped",
            "check the tracking of my order", "know the eta of my order", "follow my shipment", "check when purchase {n} gets here",
            "find my package", "see the tracking number for order {n}", "know why my order is late", "check on my delivery",
            "change my order {n}", "add an item to order {n}", "change the delivery address of order {n}", "remove a product from my order",
        ),
        (
            "where is my order {n}", "when will my package arrive", "has my order shipped yet", "why hasnt my order arrived yet",
            "my order {n} still not here", "order {n} is two weeks late, where is it", "the tracking hasnt moved in days",
            "package says delivered but i got nothing", "still waiting on my parcel", "where the hell is my stuff",
        ),
    ),
    "refund_return": (
        (
            "get a refund", "request a refund for order {n}", "check the status of my refund", "track my refund", "see if my refund was processed",
            "know ur refund policy", "check the refund policy", "return an item", "send back a product", "get my money back",
            "claim a reimbursement", "find out when i will get my refund", "ask for a refund", "return order {n}", "exchange an item for another size",
            "cancel order {n} and get my money back", "get a return label", "cancel order {n}", "cancel my purchase",
            "cancel an order i placed yesterday", "get reimbursed for a damaged item", "check if i can return a sale item",
        ),
        (
            "where is my refund", "how long does a refund take", "can i get a refund", "what is ur refund policy", "when will i get my money back",
            "i returned it 2 weeks ago and still no refund", "refund for order {n} pls", "i was charged twice, i want the money back",
            "item arrived broken, i want a refund", "still havent got my money back",
        ),
    ),
    "complaint": (
        (
            "file a complaint", "lodge a complaint", "make a complaint about ur service", "complain about the delivery driver",
            "report a bad experience with ur staff", "submit a complaint", "raise a claim against ur company", "open a complaint about an agent",
            "express my dissatisfaction with ur service", "report poor service", "complain about ur customer service", "leave a complaint",
            "complain about the way i was treated", "make a formal complaint", "escalate my complaint to a manager",
        ),
        (
            "ur service is terrible", "i am very unhappy with ur service", "this is unacceptable", "worst experience ever with ur company",
            "im really disappointed with the way i was treated", "the agent was rude to me", "i want to complain", "i am fed up with ur company",
            "third time the same problem, nobody cares", "ur staff are useless", "nobody answers my emails, disgraceful", "absolutely appalling service",
        ),
    ),
    "technical_support": (
        (
            "recover my password", "reset my password", "fix a login problem", "report a registration problem", "solve an issue with signing up",
            "fix the app crashing", "report an error at checkout", "fix a payment error", "sort out a problem with my account",
            "set up two factor authentication", "pair my earbuds with my phone", "connect the device to wifi", "update the firmware",
            "get back into my account", "fix the error when i register", "restore access to my profile", "get the app to open",
            "report a payment problem", "tell u about an error with my payment", "report that my card payment fails", "delete my account",
            "change my account details",
        ),
        (
            "i cant log in", "i forgot my password", "the app keeps crashing", "i get an error when i try to register", "the website wont load",
            "cant sign up, the form gives an error", "password reset email never arrives", "earbuds wont pair", "my account is locked",
            "the page freezes when i pay",
        ),
    ),
    "appointment": (
        (
            "book an appointment", "schedule a visit", "reschedule my appointment", "cancel my appointment for tomorrow", "make a reservation for friday",
            "book a slot for a fitting", "arrange a consultation", "book a demo", "move my booking to next week", "see available slots",
            "set up a meeting with an advisor", "change the time of my appointment", "book a table for four", "come in for a repair",
        ),
        (
            "do you have free slots on saturday", "can i come in at 3pm tomorrow", "is there availability next week", "running late for my appointment",
            "any openings for a consultation thursday", "need to push my booking back an hour",
        ),
    ),
    "partnership": (
        (
            "propose a collaboration", "discuss a partnership", "become a reseller", "sell ur products in my shop", "talk about a sponsorship",
            "set up an affiliate deal", "interview ur founder for our magazine", "work together on a campaign", "get wholesale terms",
            "become a distributor", "collab as an influencer", "feature ur brand on my channel", "pitch a joint event",
        ),
        (
            "we are a blog and would love to collaborate", "im an influencer with 40k followers, interested in a paid collab",
            "our agency wants to partner with u", "we distribute in poland, interested in ur products", "journalist here, can i interview ur ceo",
        ),
    ),
}
SPAM = (
    "congratulations you won a prize claim now", "cheap viagra no prescription", "earn money from home fast", "click here to verify your account",
    "your mailbox is full, login here to keep your email", "we can get your site ranked #1 on google", "buy 10k followers cheap",
    "limited offer 90% off designer bags", "you have been selected for a cash reward", "invest in bitcoin and double your money",
    "dear friend i need your help with a transfer of 4.5 million", "hot singles near you", "your package could not be delivered, pay the fee here",
    "final notice: your account will be suspended, confirm your details", "lose 10kg in 10 days guaranteed", "work from home and make $5000 a week",
    "free gift card waiting for you, click the link", "your apple id was locked, verify now", "lowest mortgage rates, apply today",
    "meet rich men online free", "exclusive investment opportunity, 300% returns", "replica watches best price", "claim your inheritance now",
    "urgent business proposal from the director", "get paid to take surveys", "your invoice is attached, open the zip",
    "dear sir/madam we offer cheap seo and web design", "you are pre-approved for a loan, no credit check", "100% free casino bonus",
    "act now! limited time offer", "remove me from this list reply stop", "make your partner happy, pills on sale", "crypto bot earns while you sleep",
    "out of office: i am away until monday", "automatic reply: your message has been received", "delivery status notification (failure)",
)
_SWAPS = (("you", "u"), ("your", "ur"), ("are", "r"), ("please", "pls"), ("for", "4"), ("to", "2"), ("what", "wat"), ("i'm", "im"), ("don't", "dont"))


def typo(word: str, rng: random.Random) -> str:
    if len(word) < 4 or not word.isalpha():
        return word
    i = rng.randrange(1, len(word) - 1)
    kind = rng.random()
    if kind < 0.4:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if kind < 0.7:
        return word[:i] + word[i + 1 :]
    return word[:i] + word[i] + word[i:]


def roughen(text: str, rng: random.Random) -> str:
    words = text.split()
    for shorter in _SWAPS:
        if rng.random() < 0.3:
            words = [shorter[1] if w == shorter[0] else w for w in words]
    words = [typo(w, rng) if rng.random() < 0.08 else w for w in words]
    text = " ".join(words)
    if rng.random() < 0.25:
        text = text.replace("'", "")
    if rng.random() < 0.3:
        text = text[:1].upper() + text[1:]
    if rng.random() < 0.08:
        text = text.upper()
    return text


def examples(rng: random.Random) -> list[tuple[str, str]]:
    rows: set[tuple[str, str]] = set()
    for intent, (verbs, sentences) in PHRASES.items():
        made: set[str] = set()
        while len(made) < PER_INTENT:
            if rng.random() < 0.7:
                text = rng.choice(OPENINGS).format(v=rng.choice(verbs)) + rng.choice(ENDINGS)
            else:
                text = rng.choice(sentences) + rng.choice(ENDINGS)
            made.add(roughen(text.replace("{n}", rng.choice(ORDER_NUMBERS)), rng))
        rows |= {(intent, text) for text in made}
    spam: set[str] = set()
    while len(spam) < PER_INTENT // 2:
        text = rng.choice(SPAM)
        spam.add(roughen(text, rng) if rng.random() < 0.6 else text)
    rows |= {("spam_other", text) for text in spam}
    return sorted(rows)


def main() -> None:
    rows = examples(random.Random(27))
    OUT.write_text("".join(f"{intent}\t{' '.join(text.split())}\n" for intent, text in rows), encoding="utf-8")
    print(f"{len(rows)} examples written to {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
