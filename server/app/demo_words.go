package app

// What the demo's participants say, in the languages they said it in, with the English
// translation an interpreter or the outreach worker wrote down. Invented for the demo;
// every statement is one a community engagement team hears often.

// demoLangs are the languages the demo's conversations are held in.
var demoLangs = []string{"en", "pa", "ur", "bn", "ar", "pl", "so"}

// demoSaying is one statement in every demo language ("en" is also the translation).
type demoSaying struct {
	Theme string // the theme a coordinator coded it with ("" for none)
	Text  map[string]string
}

// demoBetter answers "what could be better", one per theme.
var demoBetter = []demoSaying{
	{"GP appointments", map[string]string{
		"en": "I phone at eight every morning and all the appointments are gone by the time I get through.",
		"pa": "ਮੈਂ ਹਰ ਸਵੇਰ ਅੱਠ ਵਜੇ ਫ਼ੋਨ ਕਰਦਾ ਹਾਂ ਅਤੇ ਜਦੋਂ ਤੱਕ ਗੱਲ ਹੁੰਦੀ ਹੈ ਸਾਰੀਆਂ ਮੁਲਾਕਾਤਾਂ ਖ਼ਤਮ ਹੋ ਜਾਂਦੀਆਂ ਹਨ।",
		"ur": "میں ہر صبح آٹھ بجے فون کرتا ہوں اور جب تک بات ہوتی ہے تمام اپائنٹمنٹس ختم ہو چکی ہوتی ہیں۔",
		"bn": "আমি প্রতিদিন সকাল আটটায় ফোন করি, কিন্তু লাইন পাওয়ার আগেই সব অ্যাপয়েন্টমেন্ট শেষ হয়ে যায়।",
		"ar": "أتصل كل صباح في الساعة الثامنة، وعندما يردّون تكون كل المواعيد قد انتهت.",
		"pl": "Dzwonię codziennie o ósmej rano i zanim się dodzwonię, wszystkie wizyty są już zajęte.",
		"so": "Subax kasta saacadda siddeedaad ayaan wacaa, markaan ka dhex galo ballamaha oo dhan way dhammaadeen.",
	}},
	{"Interpreters", map[string]string{
		"en": "The surgery never books an interpreter, so my daughter has to miss school to translate for me.",
		"pa": "ਸਰਜਰੀ ਕਦੇ ਦੁਭਾਸ਼ੀਆ ਬੁੱਕ ਨਹੀਂ ਕਰਦੀ, ਇਸ ਲਈ ਮੇਰੀ ਧੀ ਨੂੰ ਅਨੁਵਾਦ ਕਰਨ ਲਈ ਸਕੂਲ ਛੱਡਣਾ ਪੈਂਦਾ ਹੈ।",
		"ur": "سرجری کبھی ترجمان کا انتظام نہیں کرتی، اس لیے میری بیٹی کو ترجمہ کرنے کے لیے اسکول چھوڑنا پڑتا ہے۔",
		"bn": "সার্জারি কখনও দোভাষী বুক করে না, তাই আমার মেয়েকে অনুবাদ করতে স্কুল কামাই করতে হয়।",
		"ar": "العيادة لا تحجز مترجماً أبداً، فتضطر ابنتي إلى التغيّب عن المدرسة لتترجم لي.",
		"pl": "Przychodnia nigdy nie zamawia tłumacza, więc moja córka musi opuszczać szkołę, żeby dla mnie tłumaczyć.",
		"so": "Xarunta caafimaadku marnaba turjubaan uma qabsato, sidaas darteed gabadhaydu waa inay iskuulka ka maqnaato si ay ii turjunto.",
	}},
	{"Transport", map[string]string{
		"en": "The hospital is two buses away and the parking costs too much.",
		"pa": "ਹਸਪਤਾਲ ਜਾਣ ਲਈ ਦੋ ਬੱਸਾਂ ਬਦਲਣੀਆਂ ਪੈਂਦੀਆਂ ਹਨ ਅਤੇ ਪਾਰਕਿੰਗ ਬਹੁਤ ਮਹਿੰਗੀ ਹੈ।",
		"ur": "ہسپتال جانے کے لیے دو بسیں بدلنی پڑتی ہیں اور پارکنگ بہت مہنگی ہے۔",
		"bn": "হাসপাতালে যেতে দুটো বাস বদলাতে হয়, আর পার্কিং খুব দামি।",
		"ar": "المستشفى بعيد ويحتاج إلى حافلتين، ومواقف السيارات غالية جداً.",
		"pl": "Do szpitala jadę dwoma autobusami, a parking kosztuje za dużo.",
		"so": "Isbitaalka waxaa la gaaraa laba bas, baarkinkuna aad buu qaali u yahay.",
	}},
	{"Mental health", map[string]string{
		"en": "I waited months for counselling and nobody checked on me while I waited.",
		"pa": "ਮੈਂ ਕਾਉਂਸਲਿੰਗ ਲਈ ਮਹੀਨਿਆਂ ਤੱਕ ਉਡੀਕ ਕੀਤੀ ਅਤੇ ਇਸ ਦੌਰਾਨ ਕਿਸੇ ਨੇ ਮੇਰਾ ਹਾਲ ਨਹੀਂ ਪੁੱਛਿਆ।",
		"ur": "میں نے کاؤنسلنگ کے لیے مہینوں انتظار کیا اور اس دوران کسی نے میرا حال نہیں پوچھا۔",
		"bn": "কাউন্সেলিংয়ের জন্য আমি মাসের পর মাস অপেক্ষা করেছি, এর মধ্যে কেউ খোঁজ নেয়নি।",
		"ar": "انتظرت شهوراً للحصول على الإرشاد النفسي ولم يتواصل معي أحد خلال الانتظار.",
		"pl": "Czekałam miesiącami na terapię i nikt w tym czasie nie zapytał, jak się czuję.",
		"so": "Bilooyin ayaan sugayay la-talin, cidna igama warqaban intii aan sugayay.",
	}},
	{"Digital access", map[string]string{
		"en": "The app and the online forms are only in English and I cannot use them.",
		"pa": "ਐਪ ਅਤੇ ਔਨਲਾਈਨ ਫ਼ਾਰਮ ਸਿਰਫ਼ ਅੰਗਰੇਜ਼ੀ ਵਿੱਚ ਹਨ ਅਤੇ ਮੈਂ ਇਹਨਾਂ ਨੂੰ ਵਰਤ ਨਹੀਂ ਸਕਦਾ।",
		"ur": "ایپ اور آن لائن فارم صرف انگریزی میں ہیں اور میں انہیں استعمال نہیں کر سکتا۔",
		"bn": "অ্যাপ আর অনলাইন ফর্ম শুধু ইংরেজিতে, তাই আমি সেগুলো ব্যবহার করতে পারি না।",
		"ar": "التطبيق والنماذج الإلكترونية باللغة الإنجليزية فقط ولا أستطيع استخدامها.",
		"pl": "Aplikacja i formularze internetowe są tylko po angielsku i nie umiem z nich korzystać.",
		"so": "Barnaamijka iyo foomamka onlaynka ahi waa Ingiriis oo keliya, mana isticmaali karo.",
	}},
	{"Maternity", map[string]string{
		"en": "The midwife was kind, but nobody explained the leaflets to me in my language.",
		"pa": "ਦਾਈ ਬਹੁਤ ਚੰਗੀ ਸੀ, ਪਰ ਕਿਸੇ ਨੇ ਮੈਨੂੰ ਪਰਚੇ ਮੇਰੀ ਭਾਸ਼ਾ ਵਿੱਚ ਨਹੀਂ ਸਮਝਾਏ।",
		"ur": "مڈوائف بہت مہربان تھی، لیکن کسی نے مجھے پرچے میری زبان میں نہیں سمجھائے۔",
		"bn": "মিডওয়াইফ খুব সদয় ছিলেন, কিন্তু কেউ আমার ভাষায় লিফলেটগুলো বুঝিয়ে দেয়নি।",
		"ar": "كانت القابلة لطيفة، لكن لم يشرح لي أحد النشرات بلغتي.",
		"pl": "Położna była miła, ale nikt nie wyjaśnił mi ulotek w moim języku.",
		"so": "Umulisadu way naxariis badnayd, laakiin cidna iigama sharxin waraaqaha luqaddayda.",
	}},
	{"Opening hours", map[string]string{
		"en": "I work shifts, so I need the surgery to open in the evening or at the weekend.",
		"pa": "ਮੈਂ ਸ਼ਿਫ਼ਟਾਂ ਵਿੱਚ ਕੰਮ ਕਰਦਾ ਹਾਂ, ਇਸ ਲਈ ਮੈਨੂੰ ਸਰਜਰੀ ਸ਼ਾਮ ਜਾਂ ਹਫ਼ਤੇ ਦੇ ਅੰਤ ਵਿੱਚ ਖੁੱਲ੍ਹੀ ਚਾਹੀਦੀ ਹੈ।",
		"ur": "میں شفٹوں میں کام کرتا ہوں، اس لیے مجھے سرجری شام یا ہفتے کے آخر میں کھلی چاہیے۔",
		"bn": "আমি শিফটে কাজ করি, তাই সার্জারি সন্ধ্যায় বা সপ্তাহান্তে খোলা থাকা দরকার।",
		"ar": "أعمل بنظام المناوبات، لذلك أحتاج أن تفتح العيادة مساءً أو في عطلة نهاية الأسبوع.",
		"pl": "Pracuję na zmiany, więc przychodnia powinna być otwarta wieczorem albo w weekend.",
		"so": "Shaqo beddel ah ayaan qabtaa, sidaas darteed waxaan u baahanahay in xaruntu fiidkii ama dhammaadka toddobaadka furnaato.",
	}},
}

// demoWorks answers "what works well".
var demoWorks = []demoSaying{
	{"Pharmacy", map[string]string{
		"en": "The pharmacist explains my medicines clearly and I don't need an appointment.",
		"pa": "ਫ਼ਾਰਮਾਸਿਸਟ ਮੇਰੀਆਂ ਦਵਾਈਆਂ ਬਾਰੇ ਸਾਫ਼ ਸਮਝਾਉਂਦਾ ਹੈ ਅਤੇ ਮੈਨੂੰ ਮੁਲਾਕਾਤ ਦੀ ਲੋੜ ਨਹੀਂ ਪੈਂਦੀ।",
		"ur": "فارماسسٹ میری دوائیں اچھی طرح سمجھاتا ہے اور مجھے اپائنٹمنٹ کی ضرورت نہیں پڑتی۔",
		"bn": "ফার্মাসিস্ট আমার ওষুধগুলো পরিষ্কার করে বুঝিয়ে দেন, আর অ্যাপয়েন্টমেন্ট লাগে না।",
		"ar": "الصيدلي يشرح لي أدويتي بوضوح ولا أحتاج إلى موعد.",
		"pl": "Farmaceuta jasno tłumaczy, jak brać leki, i nie potrzebuję wizyty.",
		"so": "Farmashiistuhu si cad ayuu iigu sharxaa daawooyinkayga, ballanna uma baahni.",
	}},
	{"", map[string]string{
		"en": "The receptionist speaks my language and that makes everything easier.",
		"pa": "ਰਿਸੈਪਸ਼ਨਿਸਟ ਮੇਰੀ ਭਾਸ਼ਾ ਬੋਲਦੀ ਹੈ ਅਤੇ ਇਸ ਨਾਲ ਸਭ ਕੁਝ ਸੌਖਾ ਹੋ ਜਾਂਦਾ ਹੈ।",
		"ur": "ریسپشنسٹ میری زبان بولتی ہے اور اس سے سب کچھ آسان ہو جاتا ہے۔",
		"bn": "রিসেপশনিস্ট আমার ভাষায় কথা বলেন, তাতে সবকিছু সহজ হয়ে যায়।",
		"ar": "موظفة الاستقبال تتحدث لغتي وهذا يسهّل كل شيء.",
		"pl": "Recepcjonistka mówi w moim języku i to wszystko ułatwia.",
		"so": "Soo-dhoweeyahu wuxuu ku hadlaa luqaddayda, taasina wax walba way fududaysaa.",
	}},
	{"", map[string]string{
		"en": "The nurse at the walk-in centre took time to listen to me.",
		"pa": "ਵਾਕ-ਇਨ ਸੈਂਟਰ ਦੀ ਨਰਸ ਨੇ ਸਮਾਂ ਕੱਢ ਕੇ ਮੇਰੀ ਗੱਲ ਸੁਣੀ।",
		"ur": "واک اِن سینٹر کی نرس نے وقت نکال کر میری بات سنی۔",
		"bn": "ওয়াক-ইন সেন্টারের নার্স সময় নিয়ে আমার কথা শুনেছেন।",
		"ar": "الممرضة في مركز الاستقبال دون موعد أخذت وقتها لتستمع إليّ.",
		"pl": "Pielęgniarka w punkcie bez zapisów poświęciła czas, żeby mnie wysłuchać.",
		"so": "Kalkaalisada xarunta aan ballanka u baahnayn waqti ayay qaadatay si ay ii dhagaysato.",
	}},
}

// demoBarrier is the barriers choice that goes with a theme.
var demoBarrier = map[string]string{
	"GP appointments": "booking_appointments", "Interpreters": "language", "Transport": "transport",
	"Mental health": "feeling_not_listened_to", "Digital access": "digital_access",
	"Maternity": "language", "Opening hours": "opening_hours",
}

// demoPeople describes who speaks each language in the demo: communities they name,
// Census 2021 ethnicity, religion, and first names for contact details.
var demoPeople = map[string][]struct {
	Communities []string
	Ethnicity   string
	Religion    string
}{
	"en": {{[]string{"White British"}, "white_british", "christian"}, {[]string{"Black Caribbean"}, "black_caribbean", "christian"},
		{[]string{"Irish"}, "white_irish", "christian"}, {[]string{"Indian", "Gujarati"}, "asian_indian", "hindu"},
		{[]string{"Pakistani"}, "asian_pakistani", "muslim"}, {[]string{"Mixed heritage"}, "mixed_white_and_black_caribbean", "no_religion"},
		{[]string{"White British", "Carers"}, "white_british", "no_religion"}},
	"pa": {{[]string{"Punjabi", "Sikh"}, "asian_indian", "sikh"}, {[]string{"Punjabi"}, "asian_pakistani", "muslim"}},
	"ur": {{[]string{"Pakistani"}, "asian_pakistani", "muslim"}, {[]string{"Kashmiri", "Pakistani"}, "asian_pakistani", "muslim"}},
	"bn": {{[]string{"Bangladeshi"}, "asian_bangladeshi", "muslim"}},
	"ar": {{[]string{"Yemeni"}, "other_arab", "muslim"}, {[]string{"Syrian", "Refugees"}, "other_arab", "muslim"}, {[]string{"Sudanese"}, "black_african", "muslim"}},
	"pl": {{[]string{"Polish"}, "white_other", "christian"}},
	"so": {{[]string{"Somali"}, "black_african", "muslim"}, {[]string{"Somali", "Refugees"}, "black_african", "muslim"}},
}

var demoNames = map[string][]string{
	"en": {"Sarah", "Marcus", "Siobhan", "Priya", "Imran", "Jade", "Margaret"},
	"pa": {"Harjit", "Gurpreet", "Manjit", "Amrit"},
	"ur": {"Nasreen", "Tariq", "Shazia", "Imran"},
	"bn": {"Rahima", "Abdul", "Nazma", "Shahid"},
	"ar": {"Fatima", "Ahmed", "Mariam", "Khalid"},
	"pl": {"Agnieszka", "Tomasz", "Katarzyna", "Piotr"},
	"so": {"Hodan", "Abdirahman", "Faadumo", "Mahad"},
}

// demoInterpreters interpret at the demo's engagements.
var demoInterpreters = map[string]string{
	"pa": "Amrit (Punjabi interpreter)", "ur": "Nadia (Urdu interpreter)", "bn": "Rokeya (Bengali interpreter)",
	"ar": "Yousef (Arabic interpreter)", "pl": "Ewa (Polish interpreter)", "so": "Hibaaq (Somali interpreter)",
}
