"""Write ai-guard/tests/data/pii_realistic.jsonl: realistic sentences with personal data and
look-alikes that are not personal data, in the shared cases' format (code-point offsets).
Written for this project. Deterministic."""
import json, os

E, P, C, S, I, IP = "EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "US_SSN", "IBAN_CODE", "IP_ADDRESS"
cases = [
    ("Hi, it's Maria — you can reach me at {} or on my mobile {}.", [(E, "maria.lopez@example.org"), (P, "+34 612 345 678")]),
    ("Please update my billing card to {} (exp 09/27) and send the receipt to {}.", [(C, "4111 1111 1111 1111"), (E, "billing@acme-corp.example.com")]),
    ("My SSN is {} and my date of birth is 04/12/1986.", [(S, "536-22-1234")]),
    ("Wire the refund of EUR 1,250.00 to {} by Friday.", [(I, "DE89 3704 0044 0532 0130 00")]),
    ("The login attempts came from {} and {} at 03:14 UTC.", [(IP, "203.0.113.42"), (IP, "2001:db8:85a3::8a2e:370:7334")]),
    ("Call our London office on {} or the Paris desk on {}.", [(P, "+44 20 7946 0958"), (P, "+33 1 42 68 53 00")]),
    ("Customer called from {} about order 4471-2290, tracking 1Z999AA10123456784.", [(P, "(415) 555-0132")]),
    ("I paid with my Amex {} but was charged twice ($49.99).", [(C, "3782-822463-10005")]),
    ("Send the contract to {} and cc {}.", [(E, "j.smith@lawfirm.co.uk"), (E, "paralegal+contracts@lawfirm.co.uk")]),
    ("Server {} is returning 502s since the 2.14.1 deploy; failover is {}.", [(IP, "10.20.30.40"), (IP, "10.20.30.41")]),
    ("For payroll use IBAN {}, BIC BNPAFRPP.", [(I, "FR14 2004 1010 0505 0001 3M02 606")]),
    ("Applicant SSN: {}. Income: $72,000. Employer phone: {}.", [(S, "219-09-9998"), (P, "(212) 736-5000")]),
    ("My new Mastercard is {}, please replace the old one ending 4444.", [(C, "5105-1051-0510-5100")]),
    ("Ring me back on {} after 6pm, or text {}.", [(P, "020 7946 0958"), (P, "+1 646 555 0199")]),
    ("Our Dutch supplier's account is {} (ABN AMRO).", [(I, "NL91ABNA0417164300")]),
    ("The webhook posts from {}; allow-list it in the firewall together with {}.", [(IP, "192.0.2.15"), (IP, "198.51.100.0/24")]),
    ("Reset link was sent to {} — if that's wrong, my work address is {}.", [(E, "t.nguyen@gmail.com"), (E, "tuan.nguyen@contoso.example")]),
    ("Dial {} for the Berlin team (ask for extension 214).", [(P, "+49 30 901820")]),
    ("Discover card {} was declined at checkout.", [(C, "6011 1111 1111 1117")]),
    ("Tokyo office: {}. Osaka office: {}.", [(P, "+81 3-1234-5678"), (P, "+81 6-6123-4567")]),
    ("Spanish IBAN for the deposit: {}.", [(I, "ES91 2100 0418 4502 0005 1332")]),
    ("Employee record: name Jordan Lee, social security number {}, badge 88213.", [(S, "078-05-1123")]),
    ("I can't log in from {} but it works from the office at {}.", [(IP, "172.16.254.1"), (IP, "fe80::1ff:fe23:4567:890a")]),
    ("Invoice 2024-0093 for 3 licences — questions to {}.", [(E, "accounts.payable@example.net")]),
    ("JCB card {} expires next month.", [(C, "3530 1113 3330 0000")]),
    ("Swiss account {} should receive CHF 900.", [(I, "CH93 0076 2011 6238 5295 7")]),
    ("Mobile: {} | Email: {}", [(P, "+55 11 98456 5666"), (E, "ana.souza@empresa.com.br")]),
    ("Italian supplier IBAN {} confirmed by phone.", [(I, "IT60X0542811101000000123456")]),
    ("The VPN gateway is {}, DNS is {}.", [(IP, "198.18.0.1"), (IP, "1.1.1.1")]),
    ("Please charge {} for the annual plan.", [(C, "4012888888881881")]),
    # Look-alikes: nothing here is personal data.
    ("Order 123456789 ships in 3-5 business days; total $1,234.56.", []),
    ("Build 10.0.19045.2965 fixed the crash reported on 2023-11-02 at 14:32:07.", []),
    ("The meeting is at 10:30 in room 4.12; bring the Q3 numbers (up 12.5%).", []),
    ("ISBN 978-3-16-148410-0 is out of print; try 0-306-40615-2.", []),
    ("Tracking number 9400 1000 0000 0000 0000 00 shows delivered.", []),
    ("Our ratio was 3:2:1 and the score 21-17 after 90 minutes.", []),
    ("Use std::collections::HashMap and call map.get(&key) in Rust 1.95.", []),
    ("Lot 4511-2290-8831 failed inspection; batch 0042 passed.", []),
    ("Population grew from 8,336,817 to 8,804,190 between 2010 and 2020.", []),
    ("The MAC address 00:1A:2B:3C:4D:5E belongs to the printer on floor 2.", []),
    ("Part numbers 555-0100-22 and 555-0100-23 are discontinued.", []),
    ("Flight LH 1234 departs 06:45 from gate B12, seat 23A.", []),
    ("Send feedback via the form at example.com/contact (no email please).", []),
    ("Temperature readings: 21.5, 22.0, 22.4 and 23.1 degrees.", []),
    ("Coordinates 48.8584, 2.2945 mark the tower.", []),
]
out = os.path.join(os.path.dirname(__file__), "..", "..", "ai-guard", "tests", "data", "pii_realistic.jsonl")
with open(out, "w") as f:
    for i, (template, values) in enumerate(cases):
        text = template.format(*[v for _, v in values])
        spans, pos = [], 0
        for ty, v in values:
            b = text.index(v, pos)
            start = len(text[:b])
            spans.append({"entity_type": ty, "start": start, "end": start + len(v), "value": v})
            pos = b + len(v)
        f.write(json.dumps({"id": f"realistic:{i}", "text": text, "expected_count": len(spans), "spans": spans}, ensure_ascii=False) + "\n")
print(len(cases), "cases")
